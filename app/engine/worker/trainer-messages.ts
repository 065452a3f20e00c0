import { z } from 'zod';
import { EnvelopeSchema } from '../../contract/envelope.js';
import { EpochRecord, RunSummary, TrainProgress } from '../../contract/training.js';

/**
 * Messages between the host and the trainer process. Both sides number what they send (seq), like
 * the contract's wire format, and validate what they receive.
 */
const seq = z.number().int().min(1);

/** The fields of the host's start message (see serveWorkerJob). */
export const TrainerStart = { project: z.string(), runId: z.string(), resume: z.boolean() };

export const TrainerToHost = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), seq, summary: RunSummary }),
  z.object({ type: z.literal('step'), seq, progress: TrainProgress.omit({ jobId: true, runId: true }) }),
  z.object({ type: z.literal('epoch'), seq, record: EpochRecord, summary: RunSummary }),
  z.object({ type: z.literal('done'), seq, result: EnvelopeSchema }),
]);
export type TrainerToHost = z.infer<typeof TrainerToHost>;
