import { promises as fs } from 'node:fs';
import { describeReadError } from './file-errors.js';

/** The names in a folder; a folder that does not exist has none, and any other problem (permissions) is an error naming it. */
export async function folderEntries(folder: string): Promise<string[]> {
  try {
    return await fs.readdir(folder);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw describeReadError(folder, err);
  }
}
