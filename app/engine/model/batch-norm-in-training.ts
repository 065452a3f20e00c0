import * as tf from '@tensorflow/tfjs';

import {
  BATCH_NORM_TRAINING_BACKWARD,
  BATCH_NORM_TRAINING_FORWARD,
  batchNormKernelsSupport,
} from '../backend/wasm-kernels/batch-norm-training.js';

/** What a training-mode batch normalisation returns: the output and the batch's statistics. */
export interface BatchNormInTraining {
  output: tf.Tensor4D;
  /** Per-channel mean and biased variance of the batch, for the layer's moving averages. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

const STATISTICS_AXES = [0, 1, 2];

/**
 * Batch normalisation of [N, H, W, C] in training mode (statistics of this batch), with the
 * closed-form gradient of the whole computation:
 *   x^ = (x - mean) / sqrt(var + eps),  y = gamma * x^ + beta
 *   dx = gamma / sqrt(var + eps) * (dy - mean(dy) - x^ * mean(dy * x^))
 * tfjs-layers builds the same thing from moments + batchNorm and differentiates each piece on its
 * own: about two dozen full-size tensor passes per layer in the backward pass, where this needs
 * seven. The statistics leave through `mean` and `variance`, outside the gradient.
 */
export function batchNormInTraining(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormInTraining {
  const backendKernels = tf.getKernel(BATCH_NORM_TRAINING_FORWARD, tf.getBackend()) !== undefined;
  const step = backendKernels && batchNormKernelsSupport(x.shape[3]) ? stepByKernels : stepByOps;
  let statistics: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null = null;
  const normalise = tf.customGrad((input, scale, offset, save) => {
    const { value, gradFunc, mean, variance } = step(input as tf.Tensor4D, scale as tf.Tensor1D, offset as tf.Tensor1D, epsilon, save as tf.GradSaveFunc);
    // Inside customGrad nothing is taped; these two are handed out and released by the caller.
    statistics = { mean: tf.keep(mean), variance: tf.keep(variance) };
    return { value, gradFunc };
  });
  const output = normalise(x, gamma, beta) as tf.Tensor4D;
  const { mean, variance } = statistics!;
  return { output, mean, variance };
}

/** One way to compute the normalisation: its output, its gradient, and the batch's statistics. */
type NormalisationStep = (
  input: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  epsilon: number,
  save: tf.GradSaveFunc,
) => { value: tf.Tensor4D; gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => tf.Tensor[]; mean: tf.Tensor1D; variance: tf.Tensor1D };

/**
 * In the wasm backend's two fused kernels (two SIMD passes each way instead of about seven tensor
 * ops); see backend/wasm-kernels/batch-norm-training.ts.
 */
const stepByKernels: NormalisationStep = (input, scale, offset, epsilon, save) => {
  const [value, mean, variance, inverseStd] = tf.engine().runKernel(BATCH_NORM_TRAINING_FORWARD, { x: input, gamma: scale, beta: offset }, { epsilon }) as [
    tf.Tensor4D,
    tf.Tensor1D,
    tf.Tensor1D,
    tf.Tensor1D,
  ];
  save([input, mean, inverseStd, scale]);
  return {
    value,
    mean,
    variance,
    gradFunc: (dy, saved) => {
      const [savedInput, savedMean, savedInverseStd, savedScale] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
      return tf.engine().runKernel(BATCH_NORM_TRAINING_BACKWARD, { dy, x: savedInput, mean: savedMean, inverseStd: savedInverseStd, gamma: savedScale }) as tf.Tensor[];
    },
  };
};

/** In tensor ops, for every backend. */
const stepByOps: NormalisationStep = (input, scale, offset, epsilon, save) => {
  const mean = tf.mean(input, STATISTICS_AXES) as tf.Tensor1D;
  const centred = tf.sub(input, mean);
  const variance = tf.mean(tf.square(centred), STATISTICS_AXES) as tf.Tensor1D;
  const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
  save([centred, inverseStd, scale]);
  return {
    value: tf.add(tf.mul(centred, tf.mul(inverseStd, scale)), offset),
    mean,
    variance,
    gradFunc: (dy, saved) => {
      const [savedCentred, savedInverseStd, savedScale] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
      const count = dy.size / dy.shape[3]!;
      const dySum = tf.sum(dy, STATISTICS_AXES);
      const dyCentredSum = tf.sum(tf.mul(dy, savedCentred), STATISTICS_AXES);
      const outputScale = tf.mul(savedScale, savedInverseStd);
      // dx = s * dy - s * inverseStd^2 * mean(dy * centred) * centred - s * mean(dy), s = gamma * inverseStd
      const centredScale = tf.mul(outputScale, tf.div(tf.mul(tf.square(savedInverseStd), dyCentredSum), count));
      const dx = tf.sub(tf.sub(tf.mul(dy, outputScale), tf.mul(savedCentred, centredScale)), tf.div(tf.mul(outputScale, dySum), count));
      return [dx, tf.mul(dyCentredSum, savedInverseStd), dySum];
    },
  };
};
