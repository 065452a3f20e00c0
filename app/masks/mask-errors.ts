import { AppError } from '../contract/errors.js';

/**
 * Masks are read with the image readers, whose failures say 'invalid_image'. A broken mask file is a
 * mask problem, so the code is changed; the message (which names the file) is kept.
 */
export async function asMaskErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof AppError && err.code === 'invalid_image') throw new AppError('invalid_mask', err.message, err.details);
    throw err;
  }
}
