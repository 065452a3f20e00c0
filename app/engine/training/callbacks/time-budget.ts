import type { RunFolder } from '../../runs/run-store.js';
import type { TrainingCallback } from '../training-callback.js';

/**
 * Fits training into `timeBudgetSeconds` (when set), counted from `startedAt` (the trainer's start,
 * so loading the data counts too). After the first epoch it sets the number of epochs from that
 * epoch's time (the first epoch is warm-up, so the schedule's decay starts from the new count);
 * after the second from the second's alone, which no longer includes the backend's start-up costs;
 * later it only ends training early when the next epoch would overrun. run.json keeps the count.
 * A resumed run keeps the count it had.
 */
export function timeBudget(run: RunFolder, startedAt: number): TrainingCallback {
  let resumed = false;
  let firstEpoch = 1;
  let trainingBegan = startedAt;
  let lastEpochEnded = startedAt;
  return {
    onTrainBegin(context) {
      resumed = context.state.epoch > 0;
      firstEpoch = context.state.epoch + 1;
      trainingBegan = performance.now();
      lastEpochEnded = trainingBegan;
    },
    async onEpochEnd(context, { record }) {
      const { settings } = context.config;
      const budget = settings.timeBudgetSeconds;
      if (budget === null || resumed) return;
      const now = performance.now();
      const elapsed = (now - startedAt) / 1000;
      const lastEpoch = (now - lastEpochEnded) / 1000;
      const perEpoch = record.epoch <= 2 ? lastEpoch : (now - trainingBegan) / 1000 / (record.epoch - firstEpoch + 1);
      lastEpochEnded = now;
      let epochs = settings.epochs;
      if (record.epoch <= 2) epochs = Math.max(record.epoch, record.epoch + Math.floor((budget - elapsed) / perEpoch));
      else if (elapsed + perEpoch > budget) epochs = record.epoch;
      if (epochs === settings.epochs) return;
      context.config = { ...context.config, settings: { ...settings, epochs } };
      await run.update({ config: context.config });
    },
  };
}
