import { AppError } from '../contract/errors.js';

/**
 * The one mapping from the system's error codes (errno names) to plain words. Messages that reach
 * users name the file and say the problem with these words; the errno name stays in `details`.
 */
const PROBLEMS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'something with that name already exists',
  ENOTEMPTY: 'the folder is not empty',
  ENAMETOOLONG: 'its name is too long for the file system',
  ELOOP: 'its path loops through symbolic links',
  EILSEQ: 'its name is not valid for this file system',
  EMFILE: 'too many files are open at once; close other programs and try again',
  ENFILE: 'too many files are open at once; close other programs and try again',
  EBUSY: 'it is in use by another program',
  ETXTBSY: 'it is in use by another program',
  EXDEV: 'it is on another disk',
  EIO: 'the disk reported a read or write error',
  EFBIG: 'the file is too large for the file system',
  ENXIO: 'it is a device or pipe, not a file',
  ENODEV: 'the file system does not support this',
  ENOTSUP: 'the file system does not support this',
  EOPNOTSUPP: 'the file system does not support this',
  EINVAL: 'the file system does not accept this name or operation',
  ETIMEDOUT: 'the disk or network share did not answer in time',
};

/** Calls that change the disk; the rest read. */
const WRITING_CALLS = new Set(['mkdir', 'write', 'rename', 'unlink', 'rmdir', 'rm', 'copyfile', 'link', 'symlink', 'chmod', 'chown', 'utime', 'futime', 'fsync', 'ftruncate', 'mkdtemp']);

interface SystemError {
  code: string;
  syscall?: string;
  path?: string;
  message: string;
}

function systemError(err: unknown): SystemError | null {
  const candidate = err as Partial<SystemError> | null;
  return candidate && typeof candidate === 'object' && typeof candidate.code === 'string' && /^E[A-Z0-9]+$/.test(candidate.code) && typeof candidate.message === 'string'
    ? (candidate as SystemError)
    : null;
}

/** Plain words for a failed file-system call; unknown codes keep the system's own text without the errno name. */
export function plainFileProblem(err: unknown): string {
  const system = systemError(err);
  if (!system) return err instanceof Error ? err.message : String(err);
  // Node writes "ECODE: description, call 'path'"; the description is the system's own wording.
  return PROBLEMS[system.code] ?? system.message.replace(/^E[A-Z0-9]+:\s*/, '').replace(/,\s*\w+\s+'.*$/s, '');
}

export function describeWriteError(file: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('io_error', `Could not save ${file}: ${plainFileProblem(err)}. The previous version is unchanged.`, { file, errno: systemError(err)?.code ?? '' });
}

export function describeReadError(file: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = systemError(err)?.code ?? '';
  if (code === 'ENOENT') return new AppError('not_found', `${file}: no such file or folder.`, { file });
  return new AppError('io_error', `Could not read ${file}: ${plainFileProblem(err)}.`, { file, errno: code });
}

export function describeFolderError(folder: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = systemError(err)?.code ?? '';
  const problem = code === 'EEXIST' ? 'a file with that name is in the way' : plainFileProblem(err);
  return new AppError('io_error', `Could not create the folder ${folder}: ${problem}.`, { file: folder, errno: code });
}

/**
 * The last line of defence where every error is turned into an answer (the contract registry, jobs,
 * worker processes, the CLI): a raw file-system error becomes a message in plain words naming its
 * file; anything else passes unchanged.
 */
export function describeFileError(err: unknown): unknown {
  const system = systemError(err);
  if (!system || err instanceof AppError) return err;
  const file = system.path ?? 'a file';
  if (system.syscall === 'mkdir') return describeFolderError(file, err);
  if (system.syscall && WRITING_CALLS.has(system.syscall)) return describeWriteError(file, err);
  return describeReadError(file, err);
}
