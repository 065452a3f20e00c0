import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';
import { batchGradients } from './batch-gradients.js';
import type { LossOptions } from './loss.js';
import type { SteppableOptimizer } from './optimizer.js';

/** Conv and transposed-conv kernels: the weights AdamW decays (never BatchNorm scales or biases). */
export function decayableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.filter((weight) => weight.originalName.endsWith('/kernel')).map((weight) => weight.read() as tf.Variable);
}

/**
 * One optimisation step: loss and gradients (in micro-batches of `microBatchSize` when the batch is
 * larger), clipping to a global norm, the update, and AdamW's decoupled decay. Every intermediate
 * tensor is released; only the loss value leaves. The loss is read asynchronously: the webgpu backend cannot read GPU memory synchronously in Node.
 */
export async function trainStep(
  model: tf.LayersModel,
  optimizer: SteppableOptimizer,
  batch: Batch,
  loss: LossOptions,
  clipNorm: number | null,
  learningRate: number,
  microBatchSize = batch.size,
): Promise<number> {
  optimizer.setLearningRate(learningRate);
  const value = tf.tidy(() => {
    const { value: lossValue, grads } = batchGradients(model, batch, loss, { microBatchSize, training: true });
    optimizer.optimizer.applyGradients(clipNorm === null ? grads : clipByGlobalNorm(grads, clipNorm));
    return lossValue;
  });
  optimizer.decayWeights(decayableVariables(model), learningRate);
  try {
    return (await value.data())[0]!;
  } finally {
    value.dispose();
  }
}

export function clipByGlobalNorm(grads: tf.NamedTensorMap, clipNorm: number): tf.NamedTensorMap {
  const names = Object.keys(grads);
  const globalNorm = tf.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(grads[name]!)))));
  const scale = tf.div(clipNorm, tf.maximum(globalNorm, clipNorm));
  return Object.fromEntries(names.map((name) => [name, tf.mul(grads[name]!, scale)]));
}
