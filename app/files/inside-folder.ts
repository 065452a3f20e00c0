import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describeReadError } from './file-errors.js';

/** True when `candidate` is `folder` or lies inside it (both absolute, links already resolved by the caller). */
export function isInside(candidate: string, folder: string): boolean {
  const relative = path.relative(folder, candidate);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/**
 * Where a path really leads: the deepest part that exists, with its symbolic links resolved, and the
 * parts that do not exist yet appended. Containment checks compare these, so a link cannot lead out.
 */
export async function realPathOfExisting(file: string): Promise<string> {
  const missing: string[] = [];
  for (let current = path.resolve(file); ; current = path.dirname(current)) {
    const real = await fs.realpath(current).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      // Parts that cannot exist (missing, under a file, a name too long for the file system) are not there yet.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return null;
      throw describeReadError(current, err);
    });
    if (real !== null) return path.join(real, ...missing);
    if (path.dirname(current) === current) return path.join(current, ...missing);
    missing.unshift(path.basename(current));
  }
}
