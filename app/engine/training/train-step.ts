import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';
import { type LossOptions, segmentationLoss } from './loss.js';
import { leanVariableGrads } from './lean-gradients.js';
import type { SteppableOptimizer } from './optimizer.js';

export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((weight) => weight.read() as tf.Variable);
}

/** Conv and transposed-conv kernels: the weights AdamW decays (never BatchNorm scales or biases). */
export function decayableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.filter((weight) => weight.originalName.endsWith('/kernel')).map((weight) => weight.read() as tf.Variable);
}

export function batchTensors(batch: Batch): { images: tf.Tensor4D; labels: tf.Tensor3D } {
  return {
    images: tf.tensor4d(batch.images, [batch.size, batch.height, batch.width, batch.channels]),
    labels: tf.tensor3d(batch.labels, [batch.size, batch.height, batch.width], 'int32'),
  };
}

/**
 * One optimisation step: loss and gradients, clipping to a global norm, the update, and AdamW's
 * decoupled decay. Every intermediate tensor is released; only the loss value leaves. The loss is
 * read asynchronously: the webgpu backend cannot read GPU memory synchronously in Node.
 */
export async function trainStep(
  model: tf.LayersModel,
  optimizer: SteppableOptimizer,
  batch: Batch,
  loss: LossOptions,
  clipNorm: number | null,
  learningRate: number,
): Promise<number> {
  optimizer.setLearningRate(learningRate);
  const value = tf.tidy(() => {
    const { images, labels } = batchTensors(batch);
    const variables = trainableVariables(model);
    const { value: lossValue, grads } = leanVariableGrads(() => {
      const logits = model.apply(images, { training: true }) as tf.Tensor4D;
      return segmentationLoss(logits, labels, loss);
    }, variables);
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
