import * as tf from '@tensorflow/tfjs';
import { IGNORE_LABEL } from '../../contract/schemas.js';

export interface LossOptions {
  /** Classes including background; 2 = binary (one logit). */
  classes: number;
  classWeights: readonly number[] | null;
}

/** Smoothing of the soft Dice ratio: an empty prediction of an empty mask scores 1, not 0/0. */
const DICE_SMOOTH = 1;

/**
 * The sums the loss is made of, over the valid pixels of some images: cross-entropy (weighted) and
 * its weight, and per foreground channel the soft-Dice intersection, predicted and true mass. The
 * sums over two sets of pixels add up to the sums over both, so an image too large for one tensor
 * is scored piece by piece (validation at full resolution).
 */
export interface LossSums {
  crossEntropy: number;
  weight: number;
  intersection: number[];
  predicted: number[];
  truth: number[];
}

/**
 * The same sums as tensors. Sums over parts of a batch add up to the whole batch's, which is what
 * lets micro-batches reproduce the whole batch's loss and gradients (see batch-gradients.ts).
 */
export type LossSumTensors = {
  crossEntropy: tf.Scalar;
  weight: tf.Scalar;
  intersection: tf.Tensor1D;
  predicted: tf.Tensor1D;
  truth: tf.Tensor1D;
};

export const LOSS_SUM_NAMES = ['crossEntropy', 'weight', 'intersection', 'predicted', 'truth'] as const satisfies readonly (keyof LossSumTensors)[];

/**
 * Cross-entropy (BCE with logits for binary) + soft Dice loss, the reference recipe. Pixels labelled
 * 255 are excluded from both terms: every sum runs over valid pixels only and is normalised by
 * their count, so an image with ignored regions scores exactly like the same image with those
 * regions cut away. Optional class weights scale each pixel's cross-entropy by its true class.
 * `logits` is [B,H,W,1|K], `labels` int32 [B,H,W].
 */
export function segmentationLoss(logits: tf.Tensor4D, labels: tf.Tensor3D, options: LossOptions): tf.Scalar {
  return tf.tidy(() => lossOfSumTensors(lossSumTensors(logits, labels, options)));
}

/**
 * The loss's sums over these pixels, as numbers to add up over the pieces of an image. Read
 * asynchronously: the webgpu backend has no synchronous reads in Node.
 */
export async function segmentationLossSums(logits: tf.Tensor4D, labels: tf.Tensor3D, options: LossOptions): Promise<LossSums> {
  const packed = tf.tidy(() => packLossSumTensors(lossSumTensors(logits, labels, options)));
  let values: Float32Array;
  try {
    values = (await packed.data()) as Float32Array;
  } finally {
    packed.dispose();
  }
  const channels = (values.length - 2) / 3;
  const part = (index: number) => Array.from(values.subarray(2 + index * channels, 2 + (index + 1) * channels));
  return { crossEntropy: values[0]!, weight: values[1]!, intersection: part(0), predicted: part(1), truth: part(2) };
}

/** The length of packLossSumTensors's vector for `classes` classes (one foreground channel when binary). */
export function lossSumLength(classes: number): number {
  return 2 + 3 * (classes === 2 ? 1 : classes);
}

/** The sums as one vector: cross-entropy, weight, then per channel the intersections, predicted and true masses. */
export function packLossSumTensors(sums: LossSumTensors): tf.Tensor1D {
  return tf.concat([tf.stack([sums.crossEntropy, sums.weight]), sums.intersection, sums.predicted, sums.truth]) as tf.Tensor1D;
}

/** packLossSumTensors's vector back as sums (new tensors). */
export function unpackLossSumTensors(values: Float32Array): LossSumTensors {
  const channels = (values.length - 2) / 3;
  const part = (index: number) => tf.tensor1d(values.subarray(2 + index * channels, 2 + (index + 1) * channels));
  return { crossEntropy: tf.scalar(values[0]!), weight: tf.scalar(values[1]!), intersection: part(0), predicted: part(1), truth: part(2) };
}

export function addLossSums(a: LossSums, b: LossSums): LossSums {
  const add = (x: number[], y: number[]) => x.map((value, index) => value + y[index]!);
  return { crossEntropy: a.crossEntropy + b.crossEntropy, weight: a.weight + b.weight, intersection: add(a.intersection, b.intersection), predicted: add(a.predicted, b.predicted), truth: add(a.truth, b.truth) };
}

/** The loss of the pixels these sums were added up over (the same value segmentationLoss gives). */
export async function lossOfSums(sums: LossSums): Promise<number> {
  const loss = tf.tidy(() =>
    lossOfSumTensors({
      crossEntropy: tf.scalar(sums.crossEntropy),
      weight: tf.scalar(sums.weight),
      intersection: tf.tensor1d(sums.intersection),
      predicted: tf.tensor1d(sums.predicted),
      truth: tf.tensor1d(sums.truth),
    }),
  );
  try {
    return (await loss.data())[0]!;
  } finally {
    loss.dispose();
  }
}

/** Mean cross-entropy + (1 - mean soft Dice over the foreground channels). */
export function lossOfSumTensors(sums: LossSumTensors): tf.Scalar {
  const crossEntropy = tf.div(sums.crossEntropy, tf.maximum(sums.weight, 1e-6));
  const dice = tf.div(tf.add(tf.mul(sums.intersection, 2), DICE_SMOOTH), tf.add(tf.add(sums.predicted, sums.truth), DICE_SMOOTH));
  return tf.add(crossEntropy, tf.sub(1, tf.mean(dice))) as tf.Scalar;
}

/** The loss's sums over the valid pixels of `logits` and `labels` (call inside a tidy). */
export function lossSumTensors(logits: tf.Tensor4D, labels: tf.Tensor3D, options: LossOptions): LossSumTensors {
  const valid = tf.cast(tf.notEqual(labels, IGNORE_LABEL), 'float32');
  const safeLabels = tf.where(tf.cast(valid, 'bool'), labels, tf.zerosLike(labels));
  const pixelWeights = options.classWeights
    ? tf.mul(tf.gather(tf.tensor1d([...options.classWeights]), tf.reshape(safeLabels, [-1])).reshape(labels.shape), valid)
    : valid;
  const weight = tf.sum(pixelWeights) as tf.Scalar;
  if (options.classes === 2) {
    const z = tf.squeeze(logits, [3]);
    const target = tf.cast(tf.equal(safeLabels, 1), 'float32');
    // Numerically stable BCE with logits: max(z,0) - z*t + log(1 + exp(-|z|)).
    const bce = tf.add(tf.sub(tf.relu(z), tf.mul(z, target)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    const probability = tf.mul(tf.sigmoid(z), valid);
    const truth = tf.mul(target, valid);
    return {
      crossEntropy: tf.sum(tf.mul(bce, pixelWeights)) as tf.Scalar,
      weight,
      intersection: tf.reshape(tf.sum(tf.mul(probability, truth)), [1]) as tf.Tensor1D,
      predicted: tf.reshape(tf.sum(probability), [1]) as tf.Tensor1D,
      truth: tf.reshape(tf.sum(truth), [1]) as tf.Tensor1D,
    };
  }
  const flatLabels = tf.cast(tf.reshape(safeLabels, [-1]), 'int32');
  const oneHot = tf.mul(tf.reshape(tf.oneHot(flatLabels, options.classes), logits.shape), tf.expandDims(valid, 3));
  const crossEntropyPerPixel = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 3));
  const probability = tf.mul(tf.softmax(logits), tf.expandDims(valid, 3));
  const axes = [0, 1, 2];
  return {
    crossEntropy: tf.sum(tf.mul(crossEntropyPerPixel, pixelWeights)) as tf.Scalar,
    weight,
    intersection: tf.sum(tf.mul(probability, oneHot), axes) as tf.Tensor1D,
    predicted: tf.sum(probability, axes) as tf.Tensor1D,
    truth: tf.sum(oneHot, axes) as tf.Tensor1D,
  };
}
