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
 * A replica of a data-parallel step adds its gradients to the other replicas' before the update,
 * and in the same exchange averages the batch-norm moving statistics with theirs, so that all
 * replicas keep the same weights.
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
    const grads = replicaSums === undefined ? ownGrads : sumAcrossReplicas(ownGrads, replicaSums, training ? { weights: model.nonTrainableWeights, images: batch.size } : null);
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

/** A replica's batch-norm moving means and variances, and the images of the step that updated them. */
interface MovingStatistics {
  weights: readonly tf.LayerVariable[];
  images: number;
}

/**
 * Every replica's gradients of the same names added up (call inside a tidy), in one exchange with
 * the moving statistics, which are set to their mean over the replicas weighted by their images in
 * this step (a replica without images kept the previous values). One exchange per step rather
 * than two: each is a point where every replica waits for the slowest.
 */
function sumAcrossReplicas(grads: tf.NamedTensorMap, replicaSums: ReplicaSums, moving: MovingStatistics | null): tf.NamedTensorMap {
  const names = Object.keys(grads);
  const gradients = names.map((name) => grads[name]!);
  const statistics = moving?.weights.map((weight) => weight.read()) ?? [];
  const gradientValues = totalSize(gradients);
  const statisticValues = totalSize(statistics);
  const total = replicaSums.sum(gradientValues + statisticValues + 1, (slot) => {
    writeValues(slot, gradients, 0);
    if (moving === null) return;
    writeValues(slot, statistics, gradientValues);
    for (let i = gradientValues; i < gradientValues + statisticValues; i++) slot[i]! *= moving.images;
    slot[gradientValues + statisticValues] = moving.images;
  });
  if (moving !== null) {
    const allImages = total[gradientValues + statisticValues]!;
    let offset = gradientValues;
    for (const weight of moving.weights) {
      const { size, shape } = weight.read();
      weight.write(tf.tensor(total.subarray(offset, offset + size).map((sum) => sum / allImages), shape));
      offset += size;
    }
  }
  let offset = 0;
  return Object.fromEntries(
    names.map((name, index) => {
      const { size, shape } = gradients[index]!;
      const part = tf.tensor(total.subarray(offset, offset + size), shape);
      offset += size;
      return [name, part];
    }),
  );
}

function totalSize(tensors: readonly tf.Tensor[]): number {
  return tensors.reduce((size, tensor) => size + tensor.size, 0);
}

/** The values of `tensors`, one after another, into `target` from `offset` on. */
function writeValues(target: Float32Array, tensors: readonly tf.Tensor[], offset: number): void {
  for (const tensor of tensors) {
    target.set(tensor.dataSync() as Float32Array, offset);
    offset += tensor.size;
  }
}

export function clipByGlobalNorm(grads: tf.NamedTensorMap, clipNorm: number): tf.NamedTensorMap {
  const names = Object.keys(grads);
  const globalNorm = tf.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(grads[name]!)))));
  const scale = tf.div(clipNorm, tf.maximum(globalNorm, clipNorm));
  return Object.fromEntries(names.map((name) => [name, tf.mul(grads[name]!, scale)]));
}
