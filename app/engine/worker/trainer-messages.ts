import { z } from 'zod';
import { EpochRecord, RunSummary, TrainProgress } from '../../contract/training.js';
import type { WorkerProtocol } from '../../jobs/worker-process.js';

/**
 * Messages between the host and the trainer process. Both sides number what they send (seq), like
 * the contract's wire format, and validate what they receive.
 */
const seq = z.number().int().min(1);

/** The fields of the host's start message (see serveWorkerJob). */
export const TrainerStart = { project: z.string(), runId: z.string(), resume: z.boolean() };

const TrainerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), seq, summary: RunSummary }),
  z.object({ type: z.literal('step'), seq, progress: TrainProgress.omit({ jobId: true, runId: true }) }),
  z.object({ type: z.literal('epoch'), seq, record: EpochRecord, summary: RunSummary }),
]);

/** What the trainer sends: steps and epochs as it goes, then the run's summary. */
export const TrainerToHost: WorkerProtocol<z.infer<typeof TrainerMessage>, RunSummary> = { messages: TrainerMessage, result: RunSummary };
