import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { type StaticFile, StaticFiles } from '../app/host/static-files.js';
import { APP_HOST } from './app-origin.js';
import { DESKTOP_RESPONSE_HEADERS } from './content-policy.js';

export interface AppProtocolOptions {
  /** The built renderer (dist/renderer). */
  rendererDir: string;
}

/**
 * The `app:` protocol handler (for `protocol.handle`): serves the built renderer at app://studio/,
 * with the CSP on every response. Project data never comes this way: images and masks reach the
 * page through the contract. Everything else is 404; only GET and HEAD are answered.
 */
export async function createAppProtocolHandler(options: AppProtocolOptions): Promise<(request: Request) => Promise<Response>> {
  const renderer = await StaticFiles.open(options.rendererDir);
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'Only GET and HEAD are served.');
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return refuse(400, 'Malformed URL.');
    }
    if (url.host !== APP_HOST) return refuse(404, 'Not found.');
    const file = await renderer.find(url.pathname);
    if (!file) return refuse(404, 'Not found.');
    return serve(request, file);
  };
}

function serve(request: Request, file: StaticFile): Response {
  const headers = { ...DESKTOP_RESPONSE_HEADERS, 'Content-Type': file.contentType, 'Content-Length': String(file.size) };
  if (request.method === 'HEAD') return new Response(null, { status: 200, headers });
  const body = Readable.toWeb(createReadStream(file.path)) as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers });
}

function refuse(status: number, reason: string): Response {
  return new Response(reason, { status, headers: { ...DESKTOP_RESPONSE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
}
