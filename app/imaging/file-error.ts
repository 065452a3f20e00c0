import { AppError } from '../contract/errors.js';

/** Turns a failed fs call on `file` into the user-facing error: 'not_found' for a missing file, 'io_error' otherwise. */
export function fileError(file: string, err: unknown): AppError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new AppError('not_found', `${file}: file not found`, { file });
  return new AppError('io_error', `${file}: cannot read the file (${(err as Error).message})`, { file, errno: code });
}
