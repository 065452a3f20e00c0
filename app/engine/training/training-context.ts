import type * as tf from '@tensorflow/tfjs';
import type { ClassDef } from '../../contract/schemas.js';
import type { TrainConfig } from '../../contract/training.js';
import type { Random } from '../../random/prng.js';
import type { Batch } from '../data/batch.js';
import type { CheckpointState } from '../runs/checkpoint.js';
import type { LossOptions } from './loss.js';
import type { SteppableOptimizer } from './optimizer.js';

/**
 * What the loop and its callbacks share, as tfjs-layers' fit shares its model and logs with its
 * callbacks: the model being trained, how one step runs, and the run's state, which is exactly
 * what a checkpoint saves (`randomState` is read from `random` when one is written).
 */
export interface TrainingContext {
  readonly config: TrainConfig;
  readonly classes: readonly ClassDef[];
  readonly model: tf.LayersModel;
  readonly optimizer: SteppableOptimizer;
  readonly loss: LossOptions;
  /** Shuffling order; continues across epochs and resumes. */
  readonly random: Random;
  readonly signal: AbortSignal;
  /** One optimisation step on a batch at the context's learning rate; resolves to the batch's loss. */
  runStep(batch: Batch): Promise<number>;
  /** The last finished epoch (0 before the first), the schedule's state and the best epoch so far. */
  state: Omit<CheckpointState, 'randomState'>;
  /** Set by the schedule before every step. */
  learningRate: number;
  /** Set by a callback to end training after the current epoch (the run ends 'stopped'). */
  stopTraining: boolean;
}
