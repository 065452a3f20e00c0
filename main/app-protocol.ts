import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { type StaticFile, StaticFiles } from '../app/host/static-files.js';
import { APP_HOST, PROJECT_FILES_PREFIX } from './app-origin.js';
import { DESKTOP_RESPONSE_HEADERS } from './content-policy.js';
import { findProjectFile } from './project-files.js';

export interface AppProtocolOptions {
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** Roots of the projects open in this app (absolute, resolved); only their files are served. */
  openProjects(): ReadonlySet<string>;
}

/** Image types a project may hold; the renderer gets the right type (nosniff is on). */
const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
};

/**
 * The `app:` protocol handler (for `protocol.handle`): serves the renderer at app://studio/ and files
 * of open projects under app://studio/project/…, with the CSP on every response. Everything else
 * is 404; only GET and HEAD are answered.
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
    const isProjectFile = url.pathname.startsWith(PROJECT_FILES_PREFIX);
    const file = isProjectFile ? await findProjectFile(url.pathname, options.openProjects()) : await renderer.find(url.pathname);
    if (!file) return refuse(404, 'Not found.');
    return serve(request, file, isProjectFile);
  };
}

function serve(request: Request, file: StaticFile, isProjectFile: boolean): Response {
  const contentType = isProjectFile ? (IMAGE_TYPES[path.extname(file.path).toLowerCase()] ?? 'application/octet-stream') : file.contentType;
  const headers = { ...DESKTOP_RESPONSE_HEADERS, 'Content-Type': contentType, 'Content-Length': String(file.size) };
  if (request.method === 'HEAD') return new Response(null, { status: 200, headers });
  const body = Readable.toWeb(createReadStream(file.path)) as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers });
}

function refuse(status: number, reason: string): Response {
  return new Response(reason, { status, headers: { ...DESKTOP_RESPONSE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
}
