import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { ContractClient } from '../app/contract/client.js';
import { EventBus } from '../app/contract/event-bus.js';
import { HandlerRegistry } from '../app/contract/registry.js';
import { createWebSocketTransport } from '../app/contract/websocket-transport.js';
import { type BrowserHost, startBrowserHost } from '../app/host/browser-host.js';
import { JobManager } from '../app/jobs/job-manager.js';

const SECRET = 'SECRET-CONTENTS-OUTSIDE-STATIC-DIR';
const INDEX_HTML = '<!doctype html><title>U-Net Studio</title><script type="module" src="./assets/app.js"></script>';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends the path exactly as written (no client-side normalisation of `..`), like a hostile client would. */
function rawRequest(port: number, target: string, options: { method?: string; host?: string; cookie?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, path: target, method: options.method ?? 'GET', headers: { host: options.host ?? `127.0.0.1:${port}`, ...(options.cookie ? { cookie: options.cookie } : {}) } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

/** The HTTP status of a WebSocket handshake: 101 when accepted. */
function handshakeStatus(url: string, options: { origin?: string; host?: string; cookie?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      headers: { ...(options.host === undefined ? {} : { host: options.host }), ...(options.cookie === undefined ? {} : { cookie: options.cookie }) },
    });
    socket.on('open', () => {
      socket.close();
      resolve(101);
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('error', (error) => reject(error));
  });
}

function openSocket(url: string, origin: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { origin });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the connect error, or null when something accepted the connection. */
function connectError(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (error) => resolve(error));
  });
}

describe('browser host', () => {
  let root: string;
  let host: BrowserHost;
  let events: EventBus;
  let jobs: JobManager;
  let origin: string;
  let contractUrl: string;
  let markHandlerStarted: () => void;
  let markHandlerSawAbort: () => void;
  const handlerStarted = new Promise<void>((resolve) => (markHandlerStarted = resolve));
  const handlerSawAbort = new Promise<void>((resolve) => (markHandlerSawAbort = resolve));

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'unet-host-'));
    const staticDir = path.join(root, 'static');
    await mkdir(path.join(staticDir, 'assets'), { recursive: true });
    await writeFile(path.join(staticDir, 'index.html'), INDEX_HTML);
    await writeFile(path.join(staticDir, 'assets', 'app.js'), 'console.log("app");');
    await writeFile(path.join(root, 'package.json'), SECRET);
    await symlink(path.join(root, 'package.json'), path.join(staticDir, 'assets', 'leak.json'));
    await symlink(root, path.join(staticDir, 'assets', 'outside'));

    events = new EventBus();
    jobs = new JobManager(events);
    const registry = new HandlerRegistry()
      .register('jobs.list', async () => jobs.list())
      // A slow service that finishes only when its request is cancelled.
      .register('images.thumbnail', (_input, { signal }) => {
        markHandlerStarted();
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            markHandlerSawAbort();
            reject(new Error('aborted'));
          });
        });
      });
    host = await startBrowserHost({ registry, events, staticDir, port: 0, project: '/data/my project' });
    origin = `http://127.0.0.1:${host.port}`;
    contractUrl = `ws://127.0.0.1:${host.port}/contract?token=${host.token}`;
  });

  after(async () => {
    await host.close();
    await rm(root, { recursive: true, force: true });
  });

  it('hands out a loopback page URL carrying the token and the project', () => {
    const url = new URL(host.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.equal(url.port, String(host.port));
    assert.equal(url.searchParams.get('token'), host.token);
    assert.equal(url.searchParams.get('project'), '/data/my project');
    assert.ok(Buffer.from(host.token, 'base64url').length >= 24);
  });

  it('listens on 127.0.0.1 only', async () => {
    assert.equal(await connectError('127.0.0.1', host.port), null);
    const otherAddresses = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address && !address.internal && address.family === 'IPv4')
      .map((address) => address!.address);
    for (const address of [...otherAddresses, '::1']) {
      assert.notEqual(await connectError(address, host.port), null, `reachable on ${address}`);
    }
  });

  it('serves the page with the token, with a strict CSP and safe headers', async () => {
    const response = await rawRequest(host.port, `/?token=${host.token}`);
    assert.equal(response.status, 200);
    assert.equal(response.body, INDEX_HTML);
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
    const csp = String(response.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.ok(csp.includes(`connect-src 'self' ws://127.0.0.1:${host.port} ws://localhost:${host.port}`));
    assert.ok(csp.includes("frame-ancestors 'none'"));
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['referrer-policy'], 'no-referrer');
    assert.equal((await rawRequest(host.port, `/index.html?token=${host.token}`)).status, 200);
  });

  it('refuses the page without the right token', async () => {
    for (const target of ['/', '/index.html', '/?token=wrong', `/?token=${host.token}x`, '/assets/../index.html']) {
      const response = await rawRequest(host.port, target);
      assert.equal(response.status, 401, target);
      assert.ok(!response.body.includes('U-Net Studio</title>'), target);
    }
  });

  it('gives the page opened with the token an HttpOnly, same-site cookie that admits the page and its WebSocket without the token in the address', async () => {
    const opened = await rawRequest(host.port, `/?token=${host.token}`);
    const cookie = String(opened.headers['set-cookie']);
    assert.equal(cookie, `unet-studio-${host.port}=${host.token}; Path=/; HttpOnly; SameSite=Strict`);
    const pair = cookie.split(';')[0]!;
    assert.equal((await rawRequest(host.port, '/', { cookie: `other=1; ${pair}` })).status, 200);
    assert.equal((await rawRequest(host.port, '/', { cookie: pair })).headers['set-cookie'], undefined, 'only the printed link sets it');
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${host.port}/contract`, { origin, cookie: pair }), 101);
    // A wrong token, or another port's cookie (a restarted host has a new token), is refused.
    assert.equal((await rawRequest(host.port, '/', { cookie: `unet-studio-${host.port}=wrong` })).status, 401);
    assert.equal((await rawRequest(host.port, '/', { cookie: `unet-studio-${host.port + 1}=${host.token}` })).status, 401);
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${host.port}/contract`, { origin, cookie: `unet-studio-${host.port}=wrong` }), 401);
    // The cookie never replaces the origin check.
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${host.port}/contract`, { origin: 'https://evil.example', cookie: pair }), 403);
  });

  it('serves assets without the token, with their content type', async () => {
    const response = await rawRequest(host.port, '/assets/app.js');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.body, 'console.log("app");');
    assert.equal((await rawRequest(host.port, '/assets/missing.js')).status, 401);
    assert.equal((await rawRequest(host.port, `/assets/missing.js?token=${host.token}`)).status, 404);
  });

  it('never serves files outside the static folder', async () => {
    const attempts = [
      '/../package.json',
      '/../../package.json',
      '/%2e%2e/package.json',
      '/%2E%2E/%2E%2E/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/assets/..%5c..%5cpackage.json',
      '/assets/leak.json',
      '/assets/outside/package.json',
      '/assets/%00../package.json',
      '/assets/%E0%A4%A',
    ];
    for (const target of attempts) {
      for (const withToken of [false, true]) {
        const url = withToken ? `${target}${target.includes('?') ? '&' : '?'}token=${host.token}` : target;
        const response = await rawRequest(host.port, url);
        assert.ok([400, 401, 403, 404].includes(response.status), `${url} answered ${response.status}`);
        assert.ok(!response.body.includes(SECRET), `${url} leaked the file`);
      }
    }
  });

  it('answers only requests addressed to itself (DNS-rebinding guard)', async () => {
    const rebound = await rawRequest(host.port, `/?token=${host.token}`, { host: `evil.example:${host.port}` });
    assert.equal(rebound.status, 403);
    assert.equal((await rawRequest(host.port, '/assets/app.js', { host: 'evil.example' })).status, 403);
    assert.equal((await rawRequest(host.port, `/?token=${host.token}`, { host: `localhost:${host.port}` })).status, 200);
    assert.equal(await handshakeStatus(contractUrl, { origin, host: `evil.example:${host.port}` }), 403);
  });

  it('only serves GET and HEAD', async () => {
    assert.equal((await rawRequest(host.port, `/?token=${host.token}`, { method: 'POST' })).status, 405);
    const head = await rawRequest(host.port, `/?token=${host.token}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('refuses WebSockets without the right token', async () => {
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${host.port}/contract`, { origin }), 401);
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${host.port}/contract?token=wrong`, { origin }), 401);
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${host.port}/contract?token=`, { origin }), 401);
  });

  it('refuses WebSockets from other origins or without an origin', async () => {
    assert.equal(await handshakeStatus(contractUrl, { origin: 'https://evil.example' }), 403);
    assert.equal(await handshakeStatus(contractUrl, { origin: `http://127.0.0.1:${host.port + 1}` }), 403);
    assert.equal(await handshakeStatus(contractUrl, { origin: 'null' }), 403);
    assert.equal(await handshakeStatus(contractUrl), 403);
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${host.port}/other?token=${host.token}`, { origin }), 404);
  });

  it('accepts WebSockets from its own page on 127.0.0.1 and localhost', async () => {
    assert.equal(await handshakeStatus(contractUrl, { origin }), 101);
    assert.equal(await handshakeStatus(contractUrl, { origin: `http://localhost:${host.port}` }), 101);
  });

  it('serves the contract and forwards events over an accepted WebSocket', async () => {
    const job = jobs.start('import', 'import 3 images', async () => ({ imported: 3, alreadyPresent: 0, masksAdded: 0, labelled: 0, unlabelled: 3, skipped: [], warnings: [], unmatchedMasks: [], durationMs: 1 }));
    await job.finished;
    const client = new ContractClient(createWebSocketTransport(await openSocket(contractUrl, origin)));
    try {
      const listed = await client.invoke('jobs.list', {});
      assert.ok(listed.ok, JSON.stringify(listed));
      assert.deepEqual(
        listed.value.map((info) => [info.id, info.label, info.state]),
        [[job.id, 'import 3 images', 'succeeded']],
      );

      const changed = new Promise((resolve) => client.on('project.changed', resolve));
      events.emit('project.changed', { project: '/data/p', reason: 'import' });
      assert.deepEqual(await changed, { project: '/data/p', reason: 'import' });
    } finally {
      client.close();
    }
  });

  it('passes a cancelled request on to the service as an aborted signal', async () => {
    const client = new ContractClient(createWebSocketTransport(await openSocket(contractUrl, origin)));
    try {
      const controller = new AbortController();
      const pending = client.invoke('images.thumbnail', { project: '/data/p', id: 'img-1' }, { signal: controller.signal });
      await handlerStarted;
      controller.abort();
      const result = await pending;
      assert.equal(result.ok ? 'ok' : result.error.code, 'cancelled');
      await handlerSawAbort;
    } finally {
      client.close();
    }
  });

  it('closes connections that send oversized messages', async () => {
    const socket = await openSocket(contractUrl, origin);
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    socket.on('error', () => {});
    socket.send('x'.repeat(16 * 1024 * 1024 + 1));
    assert.equal(await closed, 1009);
  });
});
