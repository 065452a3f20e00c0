import { z } from 'zod';
import { AppError, ContractError } from './errors.js';

/** Results cross every boundary as envelopes, so a failing service never crashes its host. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ContractError };

export const EnvelopeSchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: ContractError }),
]);

export function ok<T>(value: T): Envelope<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: ContractError): Envelope<T> {
  return { ok: false, error };
}

/** Returns the value or throws the envelope's error as an AppError (for callers that prefer exceptions). */
export function unwrap<T>(envelope: Envelope<T>): T {
  if (envelope.ok) return envelope.value;
  throw new AppError(envelope.error.code, envelope.error.message, envelope.error.details);
}
