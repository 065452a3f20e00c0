import type { EpochRecord } from '../../contract/training.js';
import type { TrainingContext } from './training-context.js';
import type { ValidationResult } from './validate.js';

/** Where the loop is within an epoch: before a step (`step` counted from 0) and after it. */
export interface StepPosition {
  epoch: number;
  step: number;
  steps: number;
}

export interface StepEnd extends StepPosition {
  /** Mean loss of the epoch's steps so far. */
  loss: number;
  /** Images trained on in this epoch so far, and in the whole epoch. */
  imagesDone: number;
  images: number;
  /** Since the epoch began. */
  seconds: number;
}

export interface EpochEnd {
  /** The epoch's metrics line; callbacks may complete it, as Keras callbacks add to their logs. */
  record: EpochRecord;
  validation: ValidationResult | null;
  /** Whether this epoch became the best one (validation Dice; every epoch without validation). */
  improved: boolean;
}

/**
 * A part of training that acts at fixed points of the loop, as in tfjs-layers: checkpoints, the
 * best model, early stopping, the learning-rate schedule, validation pictures, progress reports.
 * Callbacks run in the order given; the async ones are awaited before the next one starts.
 */
export interface TrainingCallback {
  onTrainBegin?(context: TrainingContext): Promise<void> | void;
  onStepBegin?(context: TrainingContext, position: StepPosition): void;
  onStepEnd?(context: TrainingContext, end: StepEnd): void;
  onEpochEnd?(context: TrainingContext, end: EpochEnd): Promise<void> | void;
}
