import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';
import { leanVariableGrads } from './lean-gradients.js';
import {
  LOSS_SUM_NAMES,
  type LossOptions,
  type LossSumTensors,
  lossOfSumTensors,
  lossSumLength,
  lossSumTensors,
  packLossSumTensors,
  segmentationLoss,
  unpackLossSumTensors,
} from './loss.js';
import { type ReplicaSums, sumValues } from './replicas/replica-sums.js';

export interface GradientOptions {
  /** Images per forward and backward pass; the batch is split when it has more. */
  microBatchSize: number;
  /** Batch normalisation from each pass's own statistics (training) or its moving ones. */
  training: boolean;
  /**
   * Data parallelism: `batch` is this replica's part of a batch whose other parts other replicas
   * hold; the loss is then the whole batch's, and the gradients this part's share of its gradient.
   */
  replicaSums?: ReplicaSums;
}

export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((weight) => weight.read() as tf.Variable);
}

export function batchTensors(batch: Batch): { images: tf.Tensor4D; labels: tf.Tensor3D } {
  return {
    images: tf.tensor4d(batch.images, [batch.size, batch.height, batch.width, batch.channels]),
    labels: tf.tensor3d(batch.labels, [batch.size, batch.height, batch.width], 'int32'),
  };
}

/**
 * The loss of a batch and its gradient for every trainable variable. A batch larger than
 * `microBatchSize` runs as micro-batches whose gradients add up to the whole batch's: the loss is
 * not a sum over images (its Dice and mean cross-entropy divide sums over the whole batch), so a
 * first, forward-only pass gathers the whole batch's loss sums S; then each micro-batch i is
 * differentiated through sum_k (dL/dS_k) * S_i,k, whose gradients sum to dL/dtheta by the chain
 * rule. Only batch normalisation differs from one whole pass: in training mode it normalises each
 * micro-batch with that micro-batch's statistics (and updates its moving averages once per
 * micro-batch, in the second pass only).
 *
 * Replicas of a data-parallel step use the same chain rule across threads: each adds the other
 * replicas' loss sums (constants) to its own before the loss, so its gradient is its share of
 * the whole batch's, and their shares add up to it (`replicaSums`, summed by the caller).
 */
export function batchGradients(model: tf.LayersModel, batch: Batch, loss: LossOptions, options: GradientOptions): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const variables = trainableVariables(model);
  const logitsOf = (images: tf.Tensor4D) => model.apply(images, { training: options.training }) as tf.Tensor4D;
  const across = options.replicaSums;
  if (batch.size === 0 && across !== undefined) {
    // A small batch (an epoch's last) can leave a replica without an image: it adds nothing but still takes part.
    const total = sumValues(across, new Float32Array(lossSumLength(loss.classes)));
    const value = tf.tidy(() => lossOfSumTensors(unpackLossSumTensors(total)));
    return { value, grads: Object.fromEntries(variables.map((variable) => [variable.name, tf.zerosLike(variable)])) };
  }
  if (batch.size <= options.microBatchSize) {
    return leanVariableGrads(() => {
      const { images, labels } = batchTensors(batch);
      if (across === undefined) return segmentationLoss(logitsOf(images), labels, loss);
      const own = lossSumTensors(logitsOf(images), labels, loss);
      const mine = tf.tidy(() => packLossSumTensors(own).dataSync() as Float32Array);
      const total = sumValues(across, mine);
      const others = unpackLossSumTensors(total.map((value, index) => value - mine[index]!));
      return lossOfSumTensors(namedSums(LOSS_SUM_NAMES.map((name) => tf.add(own[name], others[name]))));
    }, variables);
  }
  const parts = microBatches(batch, options.microBatchSize);
  const sumsOf = (part: Batch): LossSumTensors => {
    const { images, labels } = batchTensors(part);
    return lossSumTensors(logitsOf(images), labels, loss);
  };
  const ownTotals = keepingMovingStatistics(model, () => addUp(parts.map((part) => () => tf.tidy(() => sumsOf(part)))));
  const totals = across === undefined ? ownTotals : unpackLossSumTensors(sumValues(across, tf.tidy(() => packLossSumTensors(ownTotals).dataSync() as Float32Array)));
  if (totals !== ownTotals) tf.dispose(Object.values(ownTotals));
  const { value, grads: sumGradients } = tf.valueAndGrads((...sums: tf.Tensor[]) => lossOfSumTensors(namedSums(sums)))(LOSS_SUM_NAMES.map((name) => totals[name]));
  const share = (part: Batch) =>
    leanVariableGrads(() => {
      const sums = sumsOf(part);
      return tf.addN(LOSS_SUM_NAMES.map((name, k) => tf.sum(tf.mul(sums[name], sumGradients[k]!)))) as tf.Scalar;
    }, variables);
  const grads = addUp(
    parts.map((part) => () => {
      const { value: partValue, grads: partGrads } = share(part);
      partValue.dispose();
      return partGrads;
    }),
  );
  tf.dispose([...Object.values(totals), ...sumGradients]);
  return { value: value as tf.Scalar, grads };
}

/** `batch` cut into consecutive parts of at most `size` images (views, not copies). */
export function microBatches(batch: Batch, size: number): Batch[] {
  const pixels = batch.height * batch.width;
  const parts: Batch[] = [];
  for (let start = 0; start < batch.size; start += size) {
    const end = Math.min(start + size, batch.size);
    parts.push({
      ...batch,
      size: end - start,
      images: batch.images.subarray(start * pixels * batch.channels, end * pixels * batch.channels),
      labels: batch.labels.subarray(start * pixels, end * pixels),
    });
  }
  return parts;
}

/** Element-wise sum of the tensor maps `parts` compute, computing one at a time so that only the running sum stays. */
function addUp<Map extends Record<string, tf.Tensor>>(parts: ReadonlyArray<() => Map>): Map {
  let sum: Map | null = null;
  for (const part of parts) {
    const term = part();
    if (sum === null) {
      sum = term;
      continue;
    }
    const previous: Map = sum;
    sum = tf.tidy(() => Object.fromEntries(Object.entries(previous).map(([name, tensor]) => [name, tf.add(tensor, term[name]!)]))) as Map;
    tf.dispose([...Object.values(previous), ...Object.values(term)]);
  }
  return sum!;
}

function namedSums(sums: readonly tf.Tensor[]): LossSumTensors {
  return Object.fromEntries(LOSS_SUM_NAMES.map((name, k) => [name, sums[k]!])) as unknown as LossSumTensors;
}

/** Runs `work` and puts the model's non-trainable weights (batch-norm moving averages) back as they were. */
function keepingMovingStatistics<Result>(model: tf.LayersModel, work: () => Result): Result {
  const saved = model.nonTrainableWeights.map((weight) => tf.clone(weight.read()));
  try {
    return work();
  } finally {
    model.nonTrainableWeights.forEach((weight, index) => weight.write(saved[index]!));
    tf.dispose(saved);
  }
}
