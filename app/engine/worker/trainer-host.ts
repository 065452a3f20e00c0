import { fileURLToPath } from 'node:url';
import { unwrap } from '../../contract/envelope.js';
import type { EpochRecord, RunSummary } from '../../contract/training.js';
import { superviseWorker, type WorkerLauncher } from '../../jobs/worker-process.js';
import type { StepProgress } from '../training/callbacks/progress.js';
import { TrainerToHost } from './trainer-messages.js';

export const TRAINER_MODULE = fileURLToPath(new URL('./trainer-process.js', import.meta.url));

export interface TrainerCallbacks {
  signal: AbortSignal;
  onStep?(progress: StepProgress): void;
  onEpoch?(record: EpochRecord, summary: RunSummary): void;
}

/** Runs one training run in its own process and settles with its summary. */
export async function runTrainer(launch: WorkerLauncher, start: { project: string; runId: string; resume: boolean }, callbacks: TrainerCallbacks): Promise<RunSummary> {
  const result = await superviseWorker(launch, TRAINER_MODULE, start, TrainerToHost, {
    signal: callbacks.signal,
    what: 'trainer',
    crashHint: 'The last checkpoint is kept; resume the run to continue.',
    onMessage: (message) => {
      if (message.type === 'step') callbacks.onStep?.(message.progress);
      else if (message.type === 'epoch') callbacks.onEpoch?.(message.record, message.summary);
    },
  });
  return unwrap(result);
}
