import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type IncomingMessage, type Server, STATUS_CODES, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { EventBus } from '../contract/event-bus.js';
import type { HandlerRegistry } from '../contract/registry.js';
import { serveContract } from '../contract/server.js';
import { createWebSocketTransport } from '../contract/websocket-transport.js';
import { type GuardVerdict, RequestGuard } from './request-guard.js';
import { COMMON_SECURITY_HEADERS, pageSecurityHeaders } from './security-headers.js';
import { type StaticFile, StaticFiles } from './static-files.js';

export interface BrowserHostOptions {
  registry: HandlerRegistry;
  events: EventBus;
  /** The built renderer (index.html plus assets/). */
  staticDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Absolute path of the project the page opens. */
  project?: string;
}

export interface BrowserHost {
  /** The page URL, token included: the only way in. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const CONTRACT_PATH = '/contract';
/** Thumbnails travel as base64 inside JSON; nothing legitimate comes near this. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Vite puts the public app code here; it holds no secrets, so it is served without the token. */
const PUBLIC_FOLDER = 'assets/';

/**
 * Browser mode: serves the renderer and the contract (over a WebSocket) to a browser on this machine.
 * It binds to loopback only and admits only requests carrying the per-run token, in the URL or in
 * the cookie the page gets when opened with it (see RequestGuard).
 */
export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const files = await StaticFiles.open(options.staticDir);
  const token = randomBytes(24).toString('base64url');
  const server = createServer();
  await listen(server, options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const guard = new RequestGuard(token, port);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  server.on('request', (request, response) => {
    serveFile(request, response, files, guard, port).catch(() => {
      if (!response.headersSent) refuse(response, 500, 'The file could not be read.');
      else response.destroy();
    });
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The raw socket is ours now; a client hanging up mid-handshake must not crash the host.
    socket.on('error', () => socket.destroy());
    const url = requestUrl(request);
    if (url?.pathname !== CONTRACT_PATH) return rejectUpgrade(socket, 404, 'No WebSocket endpoint here.');
    for (const verdict of [guard.checkHost(request), guard.checkOrigin(request), guard.checkToken(url, request)]) {
      if (!verdict.allowed) return rejectUpgrade(socket, verdict.status, verdict.reason);
    }
    sockets.handleUpgrade(request, socket, head, (webSocket) => {
      // Oversized or malformed frames close the socket with an error; the contract sees the close.
      webSocket.on('error', () => webSocket.terminate());
      serveContract(options.registry, createWebSocketTransport(webSocket), options.events);
    });
  });

  const pageUrl = new URL(`http://${LOOPBACK}:${port}/`);
  pageUrl.searchParams.set('token', token);
  if (options.project) pageUrl.searchParams.set('project', options.project);

  return {
    url: pageUrl.href,
    port,
    token,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function serveFile(
  request: IncomingMessage,
  response: ServerResponse,
  files: StaticFiles,
  guard: RequestGuard,
  port: number,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return refuse(response, 405, 'Only GET and HEAD are served.');
  }
  const hostVerdict = guard.checkHost(request);
  if (!hostVerdict.allowed) return refuseVerdict(response, hostVerdict);
  const url = requestUrl(request);
  if (!url) return refuse(response, 400, 'Malformed request target.');
  const file = await files.find(url.pathname);
  // Routing uses the resolved file, not the raw path, so `/assets/../index.html` still needs the token.
  const isPublic = file?.relativePath.startsWith(PUBLIC_FOLDER) ?? false;
  if (!isPublic) {
    const tokenVerdict = guard.checkToken(url, request);
    if (!tokenVerdict.allowed) return refuseVerdict(response, tokenVerdict);
  }
  if (!file) return refuse(response, 404, 'Not found.');
  const isPage = file.contentType.startsWith('text/html');
  sendFile(request, response, file, isPage ? { ...pageSecurityHeaders(port), ...(guard.urlHasToken(url) ? { 'Set-Cookie': guard.sessionCookie() } : {}) } : COMMON_SECURITY_HEADERS);
}

function sendFile(request: IncomingMessage, response: ServerResponse, file: StaticFile, headers: Record<string, string>): void {
  response.writeHead(200, {
    ...headers,
    'Content-Type': file.contentType,
    'Content-Length': file.size,
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file.path)
    .on('error', () => response.destroy())
    .pipe(response);
}

function refuseVerdict(response: ServerResponse, verdict: Exclude<GuardVerdict, { allowed: true }>): void {
  refuse(response, verdict.status, verdict.reason);
}

function refuse(response: ServerResponse, status: number, reason: string): void {
  response.writeHead(status, {
    ...COMMON_SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(reason),
  });
  response.end(reason);
}

/** Answers a refused WebSocket handshake with a plain HTTP status and hangs up. */
function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}

/** The request target (origin-form only) as a URL, or null when it is malformed. */
function requestUrl(request: IncomingMessage): URL | null {
  const target = request.url ?? '';
  if (!target.startsWith('/') || target.startsWith('//')) return null;
  try {
    return new URL(target, `http://${LOOPBACK}`);
  } catch {
    return null;
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
