import type { TrainingCallback } from '../training-callback.js';

/** Ends training once `patience` epochs (the setting; 0 = never) passed without a better validation Dice. */
export function earlyStopping(): TrainingCallback {
  return {
    onEpochEnd(context, { record }) {
      const { patience } = context.config.settings;
      const { bestEpoch } = context.state;
      if (patience > 0 && bestEpoch !== null && record.epoch - bestEpoch >= patience) context.stopTraining = true;
    },
  };
}
