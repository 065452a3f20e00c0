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
 * Cross-entropy (BCE with logits for binary) + soft Dice loss, the reference recipe. Pixels labelled
 * 255 are excluded from both terms: every sum runs over valid pixels only and is normalised by
 * their count, so an image with ignored regions scores exactly like the same image with those
 * regions cut away. Optional class weights scale each pixel's cross-entropy by its true class.
 * `logits` is [B,H,W,1|K], `labels` int32 [B,H,W].
 */
export function segmentationLoss(logits: tf.Tensor4D, labels: tf.Tensor3D, options: LossOptions): tf.Scalar {
  return tf.tidy(() => {
    const valid = tf.cast(tf.notEqual(labels, IGNORE_LABEL), 'float32');
    const safeLabels = tf.where(tf.cast(valid, 'bool'), labels, tf.zerosLike(labels));
    const pixelWeights = options.classWeights
      ? tf.mul(tf.gather(tf.tensor1d([...options.classWeights]), tf.reshape(safeLabels, [-1])).reshape(labels.shape), valid)
      : valid;
    const weightSum = tf.maximum(tf.sum(pixelWeights), 1e-6);
    if (options.classes === 2) {
      const z = tf.squeeze(logits, [3]);
      const target = tf.cast(tf.equal(safeLabels, 1), 'float32');
      // Numerically stable BCE with logits: max(z,0) - z*t + log(1 + exp(-|z|)).
      const bce = tf.add(tf.sub(tf.relu(z), tf.mul(z, target)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      const crossEntropy = tf.div(tf.sum(tf.mul(bce, pixelWeights)), weightSum);
      const probability = tf.mul(tf.sigmoid(z), valid);
      const truth = tf.mul(target, valid);
      const dice = softDice(tf.sum(tf.mul(probability, truth)), tf.sum(probability), tf.sum(truth));
      return tf.add(crossEntropy, tf.sub(1, dice)) as tf.Scalar;
    }
    const flatLabels = tf.cast(tf.reshape(safeLabels, [-1]), 'int32');
    const oneHot = tf.mul(tf.reshape(tf.oneHot(flatLabels, options.classes), logits.shape), tf.expandDims(valid, 3));
    const crossEntropyPerPixel = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 3));
    const crossEntropy = tf.div(tf.sum(tf.mul(crossEntropyPerPixel, pixelWeights)), weightSum);
    const probability = tf.mul(tf.softmax(logits), tf.expandDims(valid, 3));
    const axes = [0, 1, 2];
    const dicePerClass = softDice(tf.sum(tf.mul(probability, oneHot), axes), tf.sum(probability, axes), tf.sum(oneHot, axes));
    return tf.add(crossEntropy, tf.sub(1, tf.mean(dicePerClass))) as tf.Scalar;
  });
}

function softDice(intersection: tf.Tensor, predicted: tf.Tensor, truth: tf.Tensor): tf.Tensor {
  return tf.div(tf.add(tf.mul(intersection, 2), DICE_SMOOTH), tf.add(tf.add(predicted, truth), DICE_SMOOTH));
}
