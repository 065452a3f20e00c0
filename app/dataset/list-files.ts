import { promises as fs } from 'node:fs';
import path from 'node:path';
import { throwIfCancelled } from '../contract/errors.js';
import type { FileProblem } from '../contract/schemas.js';
import { describeReadError } from '../files/file-errors.js';
import { decodeFileName, fsPath } from '../files/file-name.js';

/** Extensions taken as images. BMP is listed so that it is reported as unsupported rather than ignored. */
export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.gif', '.webp', '.bmp']);

export interface ListedFiles {
  files: string[];
  problems: FileProblem[];
}

/**
 * Expands files and folders into a sorted list of image files. Unreadable folders and files with other
 * extensions are reported, never fatal; hidden files (.DS_Store, ._foo) are ignored.
 */
export async function listImageFiles(inputs: readonly string[], options: { recursive: boolean; signal?: AbortSignal }): Promise<ListedFiles> {
  const files: string[] = [];
  const problems: FileProblem[] = [];

  async function visitFolder(folder: string): Promise<void> {
    throwIfCancelled(options.signal);
    let entries;
    try {
      entries = await fs.readdir(fsPath(folder), { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      const error = describeReadError(folder, err);
      problems.push({ file: folder, code: error.code, message: `cannot read this folder: ${error.message}` });
      return;
    }
    const named = entries.map((entry) => ({ entry, name: decodeFileName(entry.name) }));
    for (const { entry, name } of named.sort((a, b) => a.name.localeCompare(b.name))) {
      if (name.startsWith('.')) continue;
      const full = path.join(folder, name);
      if (entry.isDirectory()) {
        if (options.recursive) await visitFolder(full);
        else if (IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase())) problems.push({ file: full, code: 'invalid_image', message: `${full}: is a folder, not an image file.` });
      } else {
        addFile(full);
      }
    }
  }

  function addFile(file: string): void {
    const extension = path.extname(file).toLowerCase();
    if (IMAGE_EXTENSIONS.has(extension)) files.push(file);
    else problems.push({ file, code: 'invalid_image', message: `${file}: not an image file (extension "${extension || 'none'}").` });
  }

  for (const input of inputs) {
    const absolute = path.resolve(input);
    let stat;
    try {
      stat = await fs.stat(absolute);
    } catch (err) {
      const error = describeReadError(absolute, err);
      problems.push({ file: absolute, code: error.code, message: error.message });
      continue;
    }
    if (stat.isDirectory()) await visitFolder(absolute);
    else addFile(absolute);
  }
  return { files: [...new Set(files)], problems };
}

export function fileStem(file: string): string {
  return path.basename(file, path.extname(file));
}
