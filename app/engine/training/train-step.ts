import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';
import { batchGradients } from './batch-gradients.js';
import type { LossOptions } from './loss.js';
import type { SteppableOptimizer } from './optimizer.js';
import type { ReplicaSums } from './replicas/replica-sums.js';

/** Conv and transposed-conv kernels: the weights AdamW decays (never BatchNorm scales or biases). */
export function decayableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.filter((weight) => weight.originalName.endsWith('/kernel')).map((weight) => weight.read() as tf.Variable);
}

export interface StepOptions {
  /** Batch normalisation from the batch's own statistics (training) or its moving ones. */
  training?: boolean;
  /** Data parallelism: `batch` is this replica's part; see batchGradients and sumAcrossReplicas. */
  replicaSums?: ReplicaSums;
}

/**
 * One optimisation step: loss and gradients (in micro-batches of `microBatchSize` when the batch is
 * larger), clipping to a global norm, the update, and AdamW's decoupled decay. Every intermediate
 * tensor is released; only the loss value leaves. The loss is read asynchronously: the webgpu backend cannot read GPU memory synchronously in Node.
 * A replica of a data-parallel step adds its gradients to the other replicas' before the update
 * and averages the batch-norm moving statistics with theirs after it, so that all replicas keep
 * the same weights.
 */
export async function trainStep(
  model: tf.LayersModel,
  optimizer: SteppableOptimizer,
  batch: Batch,
  loss: LossOptions,
  clipNorm: number | null,
  learningRate: number,
  microBatchSize = batch.size,
  { training = true, replicaSums }: StepOptions = {},
): Promise<number> {
  optimizer.setLearningRate(learningRate);
  const value = tf.tidy(() => {
    const { value: lossValue, grads: ownGrads } = batchGradients(model, batch, loss, { microBatchSize, training, replicaSums });
    const grads = replicaSums === undefined ? ownGrads : sumAcrossReplicas(ownGrads, replicaSums);
    optimizer.optimizer.applyGradients(clipNorm === null ? grads : clipByGlobalNorm(grads, clipNorm));
    return lossValue;
  });
  optimizer.decayWeights(decayableVariables(model), learningRate);
  if (replicaSums !== undefined && training) averageMovingStatistics(model, replicaSums, batch.size);
  try {
    return (await value.data())[0]!;
  } finally {
    value.dispose();
  }
}

/** Every replica's tensors of the same names added up (call inside a tidy). */
function sumAcrossReplicas(tensors: tf.NamedTensorMap, replicaSums: ReplicaSums): tf.NamedTensorMap {
  const names = Object.keys(tensors);
  const total = replicaSums.sum(packTensors(names.map((name) => tensors[name]!)));
  let offset = 0;
  return Object.fromEntries(
    names.map((name) => {
      const tensor = tensors[name]!;
      const part = tf.tensor(total.subarray(offset, offset + tensor.size), tensor.shape);
      offset += tensor.size;
      return [name, part];
    }),
  );
}

/**
 * The replicas' batch-norm moving means and variances, each set to their mean over the replicas
 * weighted by their images in this step (a replica without images kept the previous values).
 */
function averageMovingStatistics(model: tf.LayersModel, replicaSums: ReplicaSums, images: number): void {
  const weights = model.nonTrainableWeights;
  const own = packTensors(weights.map((weight) => weight.read()));
  const weighted = new Float32Array(own.length + 1);
  weighted.set(own.map((value) => value * images));
  weighted[own.length] = images;
  const total = replicaSums.sum(weighted);
  const allImages = total[own.length]!;
  let offset = 0;
  tf.tidy(() => {
    for (const weight of weights) {
      const { size, shape } = weight.read();
      weight.write(tf.tensor(total.subarray(offset, offset + size).map((sum) => sum / allImages), shape));
      offset += size;
    }
  });
}

function packTensors(tensors: readonly tf.Tensor[]): Float32Array {
  const packed = new Float32Array(tensors.reduce((size, tensor) => size + tensor.size, 0));
  let offset = 0;
  for (const tensor of tensors) {
    packed.set(tensor.dataSync() as Float32Array, offset);
    offset += tensor.size;
  }
  return packed;
}

export function clipByGlobalNorm(grads: tf.NamedTensorMap, clipNorm: number): tf.NamedTensorMap {
  const names = Object.keys(grads);
  const globalNorm = tf.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(grads[name]!)))));
  const scale = tf.div(clipNorm, tf.maximum(globalNorm, clipNorm));
  return Object.fromEntries(names.map((name) => [name, tf.mul(grads[name]!, scale)]));
}
