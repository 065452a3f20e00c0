import { z } from 'zod';
import { AppError, ContractError } from './errors.js';

/** Results cross every boundary as envelopes, so a failing service never crashes its host. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ContractError };

/** The envelope of a value with a known schema (a job's result, a worker's answer), validated as a whole. */
export function envelopeOf<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), value }), z.object({ ok: z.literal(false), error: ContractError })]);
}

/** Any envelope: on the wire, before the receiver checks the value against its channel's schema. */
export const EnvelopeSchema = envelopeOf(z.unknown());

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
