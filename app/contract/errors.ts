import { z } from 'zod';

/** Every failure that crosses a process or transport boundary carries one of these codes. */
export const ErrorCode = z.enum([
  'invalid_input',
  'unknown_channel',
  'not_found',
  'cancelled',
  'io_error',
  'invalid_image',
  'invalid_mask',
  'invalid_project',
  'conflict',
  'unauthorized',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ContractError = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.unknown().optional(),
});
export type ContractError = z.infer<typeof ContractError>;

/**
 * The error services throw. Its message is written for the user: it names the file and the problem
 * (and, where there is one, the fix). The registry turns it into an error envelope at the boundary.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  toContractError(): ContractError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Converts anything thrown into a ContractError; unknown errors keep their message. */
export function toContractError(err: unknown): ContractError {
  if (err instanceof AppError) return err.toContractError();
  if (isAbortError(err)) return { code: 'cancelled', message: 'Cancelled.' };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message };
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR');
}

export function cancelledError(): AppError {
  return new AppError('cancelled', 'Cancelled.');
}

/** Throws the standard cancellation error when the signal has fired; call between units of work. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}
