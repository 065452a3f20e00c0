import path from 'node:path';
import { AppError } from '../contract/errors.js';
import { isInside, realPathOfExisting } from '../files/inside-folder.js';

export interface GrantedRoot {
  label: string;
  path: string;
}

export interface PathGrantsOptions {
  /**
   * Browser mode: the folder the host's folder picker shows (the user's home), granted as a whole
   * except its hidden files and folders (~/.ssh, ~/.bashrc). Desktop: null, so only what the user
   * picked or confirmed in the host's own dialogs counts.
   */
  home: string | null;
  /** More roots the person who started the host granted (`serve --allow <folder>`, the project opened on start). */
  roots?: readonly string[];
}

/**
 * Which folders paths from the page may name in this session (docs/SECURITY.md). The page is the
 * least trusted part of the app: with a valid token (or a compromised renderer) it could otherwise
 * preview, import, segment, export or create projects anywhere on the disk. A path it sends must be
 * absolute and lie, after symbolic links are resolved, inside a granted root: an open project,
 * something picked in a host dialog or confirmed on the host, or a root the host was started with.
 */
export class PathGrants {
  private readonly roots: GrantedRoot[] = [];
  private readonly home: string | null;

  constructor(options: PathGrantsOptions) {
    this.home = options.home ? path.resolve(options.home) : null;
    for (const root of options.roots ?? []) this.allow(root, 'Granted');
  }

  /** Grants a folder (or a file) and everything under it, for this session. */
  allow(root: string, label: string): void {
    const absolute = path.resolve(root);
    if (!this.roots.some((known) => known.path === absolute)) this.roots.push({ label, path: absolute });
  }

  /** The roots, the home folder first (browser mode's folder picker shows these). */
  list(): GrantedRoot[] {
    return [...(this.home ? [{ label: 'Home', path: this.home }] : []), ...this.roots];
  }

  /** True when `requested` is an absolute path inside a granted root; see `check`. */
  async allows(requested: string): Promise<boolean> {
    return path.isAbsolute(requested) && (await this.outsideRoots(requested)) === null;
  }

  /** A path from the page as an absolute path; a relative one is refused, with the absolute path to use suggested. */
  absolute(requested: string): string {
    if (path.isAbsolute(requested)) return path.normalize(requested);
    const suggestion = path.join(this.home ?? this.roots[0]?.path ?? path.parse(process.cwd()).root, requested);
    throw new AppError('invalid_input', `"${requested}" is not a full path, and the app does not guess which folder it is in. Give the full path, e.g. ${suggestion}`, { path: requested, suggestion });
  }

  /** A path from the page, refused unless it is absolute and (links resolved) inside a granted root. */
  async check(requested: string): Promise<string> {
    const absolute = this.absolute(requested);
    const problem = await this.outsideRoots(absolute);
    if (problem) throw problem;
    return absolute;
  }

  private async outsideRoots(absolute: string): Promise<AppError | null> {
    const real = await realPathOfExisting(absolute);
    for (const root of this.roots) {
      if (isInside(real, await realPathOfExisting(root.path))) return null;
    }
    if (this.home) {
      const home = await realPathOfExisting(this.home);
      if (isInside(real, home) && !path.relative(home, real).split(path.sep).some((part) => part.startsWith('.'))) return null;
    }
    const where = this.list().map((root) => root.path).join(', ') || 'none yet';
    return new AppError(
      'unauthorized',
      `${absolute} is outside the folders this window may use (${where}${this.home ? '; hidden folders in the home folder excepted' : ''}). Pick it with Browse…, or (browser mode) start the host with --allow ${absolute}.`,
      { path: absolute, roots: this.list() },
    );
  }
}
