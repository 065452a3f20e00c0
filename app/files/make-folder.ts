import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../contract/errors.js';
import { describeFolderError, plainFileProblem } from './file-errors.js';
import { temporaryFile } from './temp-files.js';

/**
 * Creates a folder and its missing parents, one level at a time. Node's `mkdir({ recursive: true })`
 * retries without end where mkdir fails with "does not exist" under an existing parent (procfs does
 * that: /proc/x), so the walk here is bounded by the path's depth and each refusal is final; every
 * failure is a message in plain words naming the folder.
 */
export async function makeFolder(folder: string): Promise<void> {
  const target = path.resolve(folder);
  const missing: string[] = [];
  for (let current = target; ; current = path.dirname(current)) {
    const stats = await fs.stat(current).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null; // look further up for what is there
      throw describeFolderError(target, err);
    });
    if (stats) {
      if (!stats.isDirectory()) throw new AppError('io_error', `Could not create the folder ${target}: ${current} is a file, not a folder.`, { file: target });
      break;
    }
    if (path.dirname(current) === current) throw new AppError('not_found', `Could not create the folder ${target}: the drive ${current} does not exist.`, { file: target });
    missing.unshift(current);
  }
  for (const step of missing) {
    try {
      await fs.mkdir(step);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && (await fs.stat(step).then((stats) => stats.isDirectory(), () => false))) continue; // made meanwhile
      if (code === 'ENOENT') {
        // The parent exists (checked above), so this file system does not take new folders (/proc, /sys).
        throw new AppError('io_error', `Could not create the folder ${target}: ${path.dirname(step)} does not allow new folders.`, { file: target });
      }
      if (code === 'EEXIST') throw new AppError('io_error', `Could not create the folder ${target}: ${step} is a broken link or another kind of file, not a folder.`, { file: target });
      throw describeFolderError(target, err);
    }
  }
}

/** Makes the folder (as makeFolder) and checks that files can be created in it, so a read-only disk is named before any work. */
export async function makeWritableFolder(folder: string): Promise<void> {
  await makeFolder(folder);
  const probe = temporaryFile(path.join(path.resolve(folder), 'write-check'));
  try {
    await (await fs.open(probe, 'wx')).close();
  } catch (err) {
    throw new AppError('io_error', `Cannot write into the folder ${path.resolve(folder)}: ${plainFileProblem(err)}.`, { file: folder });
  }
  await fs.rm(probe, { force: true });
}
