import { fileURLToPath } from 'node:url';
import { unwrap } from '../../contract/envelope.js';
import { toContractError } from '../../contract/errors.js';
import { RunSummary } from '../../contract/training.js';
import { superviseWorker, type WorkerLauncher } from '../../jobs/worker-process.js';
import { Project } from '../../project/project.js';
import { RunFolder } from '../runs/run-store.js';
import type { ProgressListeners } from '../training/callbacks/progress.js';
import { TrainerToHost } from './trainer-messages.js';

export const TRAINER_MODULE = fileURLToPath(new URL('./trainer-process.js', import.meta.url));

export interface TrainerCallbacks extends ProgressListeners {
  signal: AbortSignal;
}

/**
 * Runs one training run in its own process and settles with its summary. When the process dies
 * without saying how the run ended (killed, out of memory), run.json would still say "running":
 * the host then marks it failed with the reason.
 */
export async function runTrainer(launch: WorkerLauncher, start: { project: string; runId: string; resume: boolean }, callbacks: TrainerCallbacks): Promise<RunSummary> {
  try {
    const result = await superviseWorker(launch, TRAINER_MODULE, start, TrainerToHost, {
      signal: callbacks.signal,
      what: 'trainer',
      crashHint: 'The last checkpoint is kept; resume the run to continue.',
      onMessage: (message) => {
        if (message.type === 'started') callbacks.onStart?.(message.summary);
        else if (message.type === 'step') callbacks.onStep?.(message.progress);
        else if (message.type === 'epoch') callbacks.onEpoch?.(message.record, message.summary);
      },
    });
    return RunSummary.parse(unwrap(result));
  } catch (err) {
    // The process's failure is what the user needs to read; a run folder that cannot be updated adds nothing to it.
    await markUnfinishedRun(start, err).catch(() => undefined);
    throw err;
  }
}

async function markUnfinishedRun(start: { project: string; runId: string }, err: unknown): Promise<void> {
  const run = await RunFolder.open(await Project.open(start.project), start.runId);
  if (run.summary.state !== 'running') return; // the trainer recorded the end itself
  const error = toContractError(err);
  await run.update(error.code === 'cancelled' ? { state: 'cancelled', error: null } : { state: 'failed', error: error.message });
}
