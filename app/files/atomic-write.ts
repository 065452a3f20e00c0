import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describeWriteError } from './file-errors.js';
import { DATA_FILE, readRegularFile } from './regular-file.js';
import { temporaryFile } from './temp-files.js';

export interface AtomicWriteOptions {
  /** Keep the previous version beside the file as `<file>.bak`. */
  keepBackup?: boolean;
}

/**
 * Replaces a file so that at every instant it holds either the old or the new content, even if the
 * process is killed or the disk fills up: write a temp file in the same folder, fsync it, (optionally)
 * hard-link the old version to .bak, rename over the target, fsync the folder.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  const temp = temporaryFile(file);
  try {
    const handle = await fs.open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.keepBackup) await backUp(file);
    await fs.rename(temp, file);
    await syncDirectory(dir);
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw describeWriteError(file, err);
  }
}

/** Copies a file atomically (the copy appears whole or not at all). */
export async function copyFileAtomic(source: string, target: string): Promise<void> {
  await writeFileAtomic(target, await readRegularFile(source, DATA_FILE));
}

async function backUp(file: string): Promise<void> {
  const backup = `${file}.bak`;
  // Hidden like the main temp file, so a killed writer's leftover never looks like project data.
  const staging = temporaryFile(backup);
  try {
    // A hard link costs no copy and leaves the original in place until the final rename.
    await fs.link(file, staging);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // first write: nothing to back up
    if (code !== 'EPERM' && code !== 'EXDEV' && code !== 'ENOTSUP') throw err;
    await fs.copyFile(file, staging); // file systems without hard links
  }
  await fs.rename(staging, backup);
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}
