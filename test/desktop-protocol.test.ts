// The desktop app's app:// protocol: the built renderer, nothing else (project data travels over the contract).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { APP_ORIGIN } from '../main/app-origin.js';
import { createAppProtocolHandler } from '../main/app-protocol.js';
import { DESKTOP_CSP } from '../main/content-policy.js';
import { tempDir } from './support/temp-dir.js';

const SECRET = 'the secret outside the renderer';
const IMAGE = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

/** A renderer folder (with links in and out of it), a project beside it and a secret file. */
async function layout(dir: string) {
  const renderer = path.join(dir, 'renderer');
  const project = path.join(dir, 'project');
  await fs.mkdir(path.join(renderer, 'assets'), { recursive: true });
  await fs.writeFile(path.join(renderer, 'index.html'), '<!doctype html><title>studio</title>');
  await fs.writeFile(path.join(renderer, 'assets', 'app.js'), 'console.log(1)');
  await fs.writeFile(path.join(renderer, 'assets', 'logo.png'), IMAGE);
  await fs.mkdir(path.join(project, 'images'), { recursive: true });
  await fs.writeFile(path.join(project, 'images', 'cell 01.png'), IMAGE);
  await fs.writeFile(path.join(dir, 'secret.txt'), SECRET);
  await fs.symlink(path.join(dir, 'secret.txt'), path.join(renderer, 'link-out.txt'));
  await fs.symlink(dir, path.join(renderer, 'dir-out'));
  await fs.symlink(path.join(renderer, 'assets', 'logo.png'), path.join(renderer, 'link-in.png'));
  return { renderer, project: await fs.realpath(project), dir: await fs.realpath(dir) };
}

test('renderer files are served, with the CSP on every response', async (t) => {
  const dir = await tempDir(t);
  const { renderer } = await layout(dir);
  const handle = await createAppProtocolHandler({ rendererDir: renderer });

  const page = await handle(new Request(`${APP_ORIGIN}/index.html`));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>studio/);
  assert.equal(page.headers.get('content-security-policy'), DESKTOP_CSP);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');

  for (const name of ['assets/logo.png', 'link-in.png']) {
    const response = await handle(new Request(`${APP_ORIGIN}/${name}`));
    assert.equal(response.status, 200, name);
    assert.equal(response.headers.get('content-type'), 'image/png');
    assert.equal(response.headers.get('content-security-policy'), DESKTOP_CSP);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), IMAGE, name);
  }
  const head = await handle(new Request(`${APP_ORIGIN}/assets/app.js`, { method: 'HEAD' }));
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '14');
});

test('path traversal, encoded separators, symlinks out and project folders are refused', async (t) => {
  const dir = await tempDir(t);
  const { renderer, project, dir: parent } = await layout(dir);
  const handle = await createAppProtocolHandler({ rendererDir: renderer });
  const key = Buffer.from(project).toString('base64url');
  const attacks = [
    '../secret.txt',
    'assets/../../secret.txt',
    '%2e%2e/secret.txt',
    '..%2fsecret.txt',
    '..%5csecret.txt',
    `%2f${encodeURIComponent(parent.slice(1))}%2fsecret.txt`,
    'link-out.txt',
    'dir-out/secret.txt',
    'index.html%00.txt',
    '%zz',
    // The route that once served open projects' files is gone: project data travels over the contract.
    `project/${key}/images/cell%2001.png`,
  ];
  for (const attack of attacks) {
    const response = await handle(new Request(`${APP_ORIGIN}/${attack}`));
    const body = Buffer.from(await response.arrayBuffer());
    assert.ok(!body.toString().includes(SECRET) && !body.equals(IMAGE), attack);
    assert.equal(response.status, 404, attack);
  }
  assert.equal((await handle(new Request('app://evil/index.html'))).status, 404);
  const post = await handle(new Request(`${APP_ORIGIN}/index.html`, { method: 'POST', body: 'x' }));
  assert.equal(post.status, 405);
});

test('the CSP allows only the app itself: no inline script, no eval, no network, no frames', () => {
  const directives = new Map(DESKTOP_CSP.split(';').map((part) => {
    const [name, ...values] = part.trim().split(/\s+/);
    return [name!, values];
  }));
  assert.deepEqual(directives.get('default-src'), ["'none'"]);
  assert.deepEqual(directives.get('script-src'), ["'self'"]);
  assert.deepEqual(directives.get('connect-src'), ["'self'"]);
  assert.deepEqual(directives.get('object-src'), ["'none'"]);
  assert.deepEqual(directives.get('frame-src'), ["'none'"]);
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
  assert.ok(!/unsafe-eval|http:|https:|ws:|\*/.test(DESKTOP_CSP));
});
