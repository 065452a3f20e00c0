import type { EpochRecord, RunSummary, TrainProgress } from '../../../contract/training.js';
import type { RunFolder } from '../../runs/run-store.js';
import type { TrainingCallback } from '../training-callback.js';

export type StepProgress = Omit<TrainProgress, 'jobId' | 'runId'>;

export interface ProgressListeners {
  /** Once, when the backend and the batch plan are known and training begins. */
  onStart?(summary: RunSummary): void;
  onStep?(progress: StepProgress): void;
  onEpoch?(record: EpochRecord, summary: RunSummary): void;
}

/**
 * Reports the start, every step (loss so far, images/s, time left for the whole run) and every finished
 * epoch, after run.json records it. Comes after the callbacks that write the epoch's files.
 */
export function progressReports(run: RunFolder, listeners: ProgressListeners): TrainingCallback {
  return {
    onTrainBegin() {
      listeners.onStart?.(run.summary);
    },
    onStepEnd(context, { epoch, step, steps, loss, imagesDone, images, seconds }) {
      const { epochs } = context.config.settings;
      const imagesPerSecond = imagesDone / seconds;
      const remainingImages = images - imagesDone + (epochs - epoch) * images;
      listeners.onStep?.({ epoch, epochs, step, steps, loss, imagesPerSecond, etaSeconds: remainingImages / imagesPerSecond });
    },
    async onEpochEnd(context, { record }) {
      const { bestEpoch, bestValDice } = context.state;
      const summary = await run.update({ epochsDone: record.epoch, bestEpoch, bestValDice });
      listeners.onEpoch?.(record, summary);
    },
  };
}
