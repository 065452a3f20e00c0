import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../contract/errors.js';
import type { FolderEntry, FolderListing } from '../contract/studio.js';
import { describeReadError } from '../files/file-errors.js';
import { isInside } from '../files/inside-folder.js';

/** A listing stops here; a folder with more entries is marked truncated (pick a sub-folder or type the path). */
const MAX_ENTRIES = 5000;

export interface BrowseRoot {
  label: string;
  path: string;
}

/**
 * The browser-mode folder picker's host side: lists folders inside the allowed roots only (the
 * granted folders: in browser mode the user's home, and the open project). Containment is checked on
 * real paths, so neither `..` nor a symbolic link leads out of them.
 */
export class FolderBrowser {
  constructor(private readonly granted: () => readonly BrowseRoot[]) {}

  async browse(request: { path?: string | undefined; hidden: boolean }, extraRoots: readonly BrowseRoot[] = []): Promise<FolderListing> {
    const start = request.path ?? [...this.granted(), ...extraRoots][0]?.path;
    if (!start) throw new AppError('unauthorized', 'No folder has been granted to this window yet; pick one with Browse….');
    const { real, root, roots } = await this.resolveInside(start, extraRoots);
    let dirents: import('node:fs').Dirent[];
    try {
      dirents = await fs.readdir(real, { withFileTypes: true });
    } catch (err) {
      throw describeReadError(real, err);
    }
    const visible = dirents.filter((dirent) => request.hidden || !dirent.name.startsWith('.'));
    const entries: FolderEntry[] = [];
    for (const dirent of visible.slice(0, MAX_ENTRIES)) {
      const kind = await entryKind(real, dirent);
      if (!kind) continue;
      const size = kind === 'file' ? await fs.stat(path.join(real, dirent.name)).then((stats) => stats.size, () => null) : null;
      entries.push({ name: dirent.name, kind, size });
    }
    entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name, undefined, { numeric: true }) : a.kind === 'folder' ? -1 : 1));
    return {
      path: real,
      parent: real === root.path ? null : path.dirname(real),
      roots,
      entries,
      truncated: visible.length > MAX_ENTRIES,
    };
  }

  /** The real path of a file or folder, refused unless it lies inside an allowed root. */
  async resolveInside(requested: string, extraRoots: readonly BrowseRoot[] = []): Promise<{ real: string; root: BrowseRoot; roots: BrowseRoot[] }> {
    const roots = await this.realRoots(extraRoots);
    const absolute = path.resolve(requested);
    const real = await fs.realpath(absolute).catch((err: unknown) => {
      throw describeReadError(absolute, err);
    });
    const root = roots.find((candidate) => isInside(real, candidate.path));
    if (!root) {
      const allowed = roots.map((candidate) => candidate.path).join(' and ');
      throw new AppError('invalid_input', `${absolute} is outside the folders this page may browse (${allowed}). Type the full path instead.`, { path: absolute });
    }
    return { real, root, roots };
  }

  private async realRoots(extra: readonly BrowseRoot[]): Promise<BrowseRoot[]> {
    const roots: BrowseRoot[] = [];
    for (const root of [...this.granted(), ...extra]) {
      const real = await fs.realpath(root.path).catch(() => null);
      if (real && !roots.some((known) => known.path === real)) roots.push({ label: root.label, path: real });
    }
    return roots;
  }
}


/** Folders and files; a symbolic link counts as what it points to (containment is checked on open). */
async function entryKind(folder: string, dirent: import('node:fs').Dirent): Promise<FolderEntry['kind'] | null> {
  if (dirent.isDirectory()) return 'folder';
  if (dirent.isFile()) return 'file';
  if (!dirent.isSymbolicLink()) return null;
  const stats = await fs.stat(path.join(folder, dirent.name)).catch(() => null);
  return stats?.isDirectory() ? 'folder' : stats?.isFile() ? 'file' : null;
}
