import { z } from 'zod';
import { EnvelopeSchema } from '../../contract/envelope.js';

/** Messages of the segmentation worker (numbered, validated on receipt, like the trainer's). */
const seq = z.number().int().min(1);

/** The fields of the host's start message: the SegmentRequest, validated again in the worker. */
export const SegmenterStart = { request: z.unknown() };

export const SegmenterToHost = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), seq, done: z.number(), total: z.number(), message: z.string() }),
  z.object({ type: z.literal('done'), seq, result: EnvelopeSchema }),
]);
export type SegmenterToHost = z.infer<typeof SegmenterToHost>;
