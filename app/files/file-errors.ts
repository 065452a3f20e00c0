import { AppError } from '../contract/errors.js';

/** Turns failed fs calls into messages that name the file and the problem in plain words. */
const WRITE_PROBLEMS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is not a folder',
  EISDIR: 'it is a folder',
};

export function describeWriteError(file: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const problem = WRITE_PROBLEMS[code] ?? (err instanceof Error ? err.message : String(err));
  return new AppError('io_error', `Could not save ${file}: ${problem}. The previous version is unchanged.`, { file, errno: code });
}

export function describeReadError(file: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ENOENT') return new AppError('not_found', `${file}: no such file or folder.`, { file });
  const problem = WRITE_PROBLEMS[code] ?? (err instanceof Error ? err.message : String(err));
  return new AppError('io_error', `Could not read ${file}: ${problem}.`, { file, errno: code });
}
