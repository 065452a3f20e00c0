import { afterValidation, learningRateAt } from '../lr-schedule.js';
import type { TrainingCallback } from '../training-callback.js';

/**
 * Sets the learning rate before every step (warm-up, then poly decay or constant), records the
 * rate at the epoch's end in its metrics line, and does reduce-on-plateau's bookkeeping after
 * each validation. Must come before the checkpoint, which saves the schedule's state.
 */
export function learningRateSchedule(): TrainingCallback {
  return {
    onStepBegin(context, { epoch, step, steps }) {
      context.learningRate = learningRateAt(context.config.settings, context.state.schedule, epoch - 1, step / steps);
    },
    onEpochEnd(context, { record }) {
      const { settings } = context.config;
      record.learningRate = learningRateAt(settings, context.state.schedule, record.epoch - 1, 1);
      context.state = { ...context.state, schedule: afterValidation(settings, context.state.schedule, record.valDice) };
    },
  };
}
