import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Every file is written under a temporary name beside its final one, then renamed (see
 * writeFileAtomic). The name is hidden and carries the writer's pid, so a later run can tell the
 * leftovers of a killed writer (pid gone) from files being written right now.
 */
const TEMPORARY = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

export function temporaryFile(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** True while a process with this pid runs on this machine (a pid we may not signal is someone's, so running). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporary files in `folder` whose writer no longer runs; returns what it removed. */
export async function removeStaleTemporaryFiles(folder: string): Promise<string[]> {
  const names = await fs.readdir(folder).catch(() => []);
  const removed: string[] = [];
  for (const name of names) {
    const pid = TEMPORARY.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || isProcessRunning(Number(pid))) continue;
    const file = path.join(folder, name);
    await fs.rm(file, { force: true });
    removed.push(file);
  }
  return removed;
}
