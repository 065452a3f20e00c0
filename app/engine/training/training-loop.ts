import * as tf from '@tensorflow/tfjs';
import { cancelledError } from '../../contract/errors.js';
import type { EpochRecord } from '../../contract/training.js';
import type { Batch } from '../data/batch.js';
import type { TrainingCallback } from './training-callback.js';
import type { TrainingContext } from './training-context.js';
import type { ValidationResult } from './validate.js';

/** The batches of training, epoch by epoch. */
export interface EpochBatches {
  /** Plans epoch `epoch` (from 1): how many steps it has and how many images they cover. */
  startEpoch(epoch: number): { steps: number; images: number };
  next(): Promise<Batch>;
}

/**
 * Trains from the epoch after `context.state.epoch` to the configured last one: the steps of each
 * epoch, then the evaluation, then the callbacks' epoch end. Everything else a run does (reports,
 * files, the schedule, stopping early) is a callback's. Returns how training ended; cancelling
 * throws after the current step.
 */
export async function runTrainingLoop(
  context: TrainingContext,
  batches: EpochBatches,
  evaluate: () => Promise<ValidationResult | null>,
  callbacks: readonly TrainingCallback[],
): Promise<'completed' | 'stopped'> {
  for (const callback of callbacks) await callback.onTrainBegin?.(context);
  for (let epoch = context.state.epoch + 1; epoch <= context.config.settings.epochs; epoch++) {
    const started = performance.now();
    const { steps, images } = batches.startEpoch(epoch);
    let lossSum = 0;
    let imagesDone = 0;
    for (let step = 0; step < steps; step++) {
      for (const callback of callbacks) callback.onStepBegin?.(context, { epoch, step, steps });
      const batch = await batches.next();
      lossSum += await context.runStep(batch);
      imagesDone += batch.size;
      // Yielding lets a cancel message in (a step's own wait may be a microtask). At most one step of work is lost.
      await new Promise((resolve) => setImmediate(resolve));
      if (context.signal.aborted) throw cancelledError();
      const seconds = (performance.now() - started) / 1000;
      for (const callback of callbacks) callback.onStepEnd?.(context, { epoch, step: step + 1, steps, loss: lossSum / (step + 1), imagesDone, images, seconds });
    }
    const seconds = (performance.now() - started) / 1000;
    const validation = await evaluate();
    const valDice = validation ? validation.matrix.meanForegroundDice() : null;
    const improved = valDice !== null ? context.state.bestValDice === null || valDice > context.state.bestValDice : true;
    context.state = { ...context.state, epoch, ...(improved ? { bestEpoch: epoch, bestValDice: valDice } : {}) };
    const record = epochRecord(context, epoch, lossSum / steps, validation, images / seconds, seconds);
    for (const callback of callbacks) await callback.onEpochEnd?.(context, { record, validation, improved });
    if (context.stopTraining) return 'stopped';
  }
  return 'completed';
}

function epochRecord(context: TrainingContext, epoch: number, trainLoss: number, validation: ValidationResult | null, imagesPerSecond: number, seconds: number): EpochRecord {
  const matrix = validation?.matrix;
  return {
    epoch,
    trainLoss,
    valLoss: validation?.loss ?? null,
    valDice: matrix ? matrix.meanForegroundDice() : null,
    valIou: matrix ? matrix.meanForegroundIou() : null,
    pixelAccuracy: matrix ? matrix.pixelAccuracy() : null,
    perClass: matrix ? context.classes.slice(0, context.config.model.classes).map((cls) => ({ classId: cls.id, name: cls.name, dice: matrix.dice(cls.id), iou: matrix.iou(cls.id) })) : [],
    learningRate: context.learningRate,
    imagesPerSecond,
    seconds,
    numTensors: tf.memory().numTensors,
  };
}
