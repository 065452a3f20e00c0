import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export interface StaticFile {
  /** Real path on disk, symlinks resolved. */
  path: string;
  /** Real path relative to the root, with forward slashes: what the host routes on. */
  relativePath: string;
  size: number;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/**
 * Maps URL paths to files inside one folder and never outside it: the decoded path is resolved and
 * checked for containment, then checked again after symlinks are resolved, so neither `..` (plain or
 * percent-encoded) nor a link pointing elsewhere can reach other files on the machine.
 */
export class StaticFiles {
  private constructor(private readonly root: string) {}

  static async open(folder: string): Promise<StaticFiles> {
    return new StaticFiles(await realpath(folder));
  }

  /** The regular file a URL pathname names, or null when there is none inside the folder. */
  async find(urlPathname: string): Promise<StaticFile | null> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPathname);
    } catch {
      return null; // malformed percent-encoding
    }
    if (decoded.includes('\0')) return null;
    const requested = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
    const candidate = path.resolve(this.root, requested);
    if (!this.contains(candidate)) return null;
    let real: string;
    try {
      real = await realpath(candidate);
    } catch {
      return null;
    }
    if (!this.contains(real)) return null;
    const stats = await stat(real);
    if (!stats.isFile()) return null;
    return {
      path: real,
      relativePath: path.relative(this.root, real).split(path.sep).join('/'),
      size: stats.size,
      contentType: CONTENT_TYPES[path.extname(real).toLowerCase()] ?? 'application/octet-stream',
    };
  }

  private contains(candidate: string): boolean {
    const relative = path.relative(this.root, candidate);
    return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
  }
}
