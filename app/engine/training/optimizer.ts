import * as tf from '@tensorflow/tfjs';
import type { TrainSettings } from '../../contract/training.js';

/** An optimizer whose learning rate the schedule sets before every step. */
export interface SteppableOptimizer {
  optimizer: tf.Optimizer;
  setLearningRate(rate: number): void;
  /** AdamW's decoupled weight decay, applied after the gradient step (no-op for the others). */
  decayWeights(variables: readonly tf.Variable[], rate: number): void;
}

export function createOptimizer(settings: Pick<TrainSettings, 'optimizer' | 'learningRate' | 'weightDecay'>): SteppableOptimizer {
  const optimizer =
    settings.optimizer === 'rmsprop'
      ? // The reference recipe: RMSprop with momentum 0.999 (its small weight decay is folded into decayWeights).
        tf.train.rmsprop(settings.learningRate, 0.9, 0.999, 1e-8)
      : tf.train.adam(settings.learningRate, 0.9, 0.999, 1e-8);
  const decoupled = settings.optimizer !== 'adam' && settings.weightDecay > 0;
  return {
    optimizer,
    // tfjs optimizers read `learningRate` on every applyGradients call.
    setLearningRate: (rate) => {
      (optimizer as unknown as { learningRate: number }).learningRate = rate;
    },
    decayWeights: (variables, rate) => {
      if (!decoupled) return;
      const keep = 1 - rate * settings.weightDecay;
      tf.tidy(() => {
        for (const variable of variables) variable.assign(tf.mul(variable, keep));
      });
    },
  };
}
