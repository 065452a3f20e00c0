import { constants, promises as fs, type Stats } from 'node:fs';
import { AppError, type ErrorCode } from '../contract/errors.js';
import { describeReadError } from './file-errors.js';
import { fsPath } from './file-name.js';

/**
 * Size limits checked before a file is read (README, "Limits"). Images, masks, models and checkpoints
 * are read whole by some step (hashing on import, ONNX parsing), and Node reads at most 2 GiB at once.
 */
export const MAX_DATA_FILE_BYTES = 2 ** 31 - 1;
/** project.json, run.json, model descriptions: text documents, far smaller even for 100 000 images. */
export const MAX_DOCUMENT_BYTES = 256 * 2 ** 20;

export interface FileLimits {
  maxBytes: number;
  /** The code of the refusal (readers of images say 'invalid_image'). */
  errorCode?: ErrorCode;
  /** Documents may be empty (their parser says what is wrong); data files may not. */
  allowEmpty?: boolean;
}

/** Images, masks, models, checkpoints. */
export const DATA_FILE: FileLimits = { maxBytes: MAX_DATA_FILE_BYTES };

/**
 * The one check every reader makes before it opens a file: only a regular file (a symbolic link
 * counts as what it points at) of at most `maxBytes`, and not empty. A named pipe would block the
 * reader for ever and a device such as /dev/zero never ends, so they are refused by type before any
 * read. Returns the file's size.
 */
export async function checkRegularFile(file: string, { maxBytes, errorCode = 'invalid_input', allowEmpty = false }: FileLimits): Promise<number> {
  const link = await fs.lstat(fsPath(file)).catch((err: unknown) => {
    throw describeReadError(file, err);
  });
  const target = link.isSymbolicLink()
    ? await fs.stat(fsPath(file)).catch((err: unknown) => {
        throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? new AppError('not_found', `${file}: a link to something that does not exist.`, { file }) : describeReadError(file, err);
      })
    : link;
  const via = link.isSymbolicLink() ? `links to ${await fs.realpath(fsPath(file)).catch(() => 'something')}, which ` : '';
  const kind = fileKind(target);
  if (kind) throw new AppError(errorCode, `${file}: ${via}is ${kind}, not a regular file; only regular files are read.`, { file, kind });
  if (target.size === 0 && !allowEmpty) throw new AppError(errorCode, `${file}: empty file (0 bytes)`, { file });
  if (target.size > maxBytes) throw tooLarge(file, target.size, maxBytes, errorCode);
  return target.size;
}

/** Reads a whole file after `checkRegularFile`; opened without blocking, so a file swapped for a pipe meanwhile is refused too. */
export async function readRegularFile(file: string, limits: FileLimits): Promise<Buffer> {
  await checkRegularFile(file, limits);
  const { maxBytes, errorCode = 'invalid_input' } = limits;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(fsPath(file), constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stats = await handle.stat();
    const kind = fileKind(stats);
    if (kind) throw new AppError(errorCode, `${file}: is ${kind}, not a regular file; only regular files are read.`, { file, kind });
    if (stats.size > maxBytes) throw tooLarge(file, stats.size, maxBytes, errorCode);
    return await handle.readFile();
  } catch (err) {
    throw describeReadError(file, err);
  } finally {
    await handle?.close();
  }
}

/** A text document (JSON and the like), empty allowed. */
export async function readRegularText(file: string): Promise<string> {
  return (await readRegularFile(file, { maxBytes: MAX_DOCUMENT_BYTES, allowEmpty: true })).toString('utf8');
}

function tooLarge(file: string, size: number, maxBytes: number, code: ErrorCode): AppError {
  return new AppError(code, `${file}: ${describeBytes(size)} is over the limit of ${describeBytes(maxBytes)} for a file read here.`, { file, size, maxBytes });
}

/** What a non-regular file is, in words; null for a regular file. */
function fileKind(stats: Stats): string | null {
  if (stats.isFile()) return null;
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

function describeBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}
