import type { ContractError } from '../../../contract/errors.js';
import type { ModelConfig, TrainSettings } from '../../../contract/training.js';
import type { Batch } from '../../data/batch.js';
import type { LossOptions } from '../loss.js';
import type { SharedSumsData } from './replica-sums.js';

/** What every replica of a run trains with (the same on all of them). */
export interface ReplicaSetup {
  model: ModelConfig;
  optimizer: Pick<TrainSettings, 'optimizer' | 'learningRate' | 'weightDecay'>;
  loss: LossOptions;
  clipNorm: number | null;
  /** Images per forward and backward pass within a replica's part. */
  microBatchSize: number;
  /** Batch normalisation from each pass's statistics (training) or its moving ones. */
  training: boolean;
}

/** What a replica's thread is started with. */
export interface ReplicaWorkerData {
  setup: ReplicaSetup;
  sums: SharedSumsData;
  replica: number;
}

/** A tensor as it crosses threads. */
export interface TensorValues {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface ReplicaWeights {
  /** model.getWeights(), in order (trainable and moving statistics). */
  model: TensorValues[];
  /** optimizer.getWeights(): its iteration count, then its accumulators. */
  optimizer: TensorValues[];
}

export type ReplicaRequest =
  /** Take these weights and optimizer state (before the first step, and after a resume). */
  | ({ type: 'load' } & ReplicaWeights)
  /** Train on this part of the step's batch (it may hold no image when the batch is small). */
  | { type: 'step'; part: Batch; learningRate: number }
  /** Send the weights back (to check that the replicas agree). */
  | { type: 'read' };

export type ReplicaReply =
  | { type: 'ready' }
  | { type: 'done' }
  | ({ type: 'weights' } & ReplicaWeights)
  | { type: 'failed'; error: ContractError };
