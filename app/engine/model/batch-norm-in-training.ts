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
  return backendKernels && batchNormKernelsSupport(x.shape[3])
    ? batchNormByKernels(x, gamma, beta, epsilon)
    : batchNormByOps(x, gamma, beta, epsilon);
}

/**
 * The same computation in the wasm backend's two fused kernels (two SIMD passes each way instead
 * of about seven tensor ops); see backend/wasm-kernels/batch-norm-training.ts.
 */
function batchNormByKernels(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormInTraining {
  let statistics: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null = null;
  const normalise = tf.customGrad((input, scale, offset, save) => {
    const [output, mean, variance, inverseStd] = tf.engine().runKernel(
      BATCH_NORM_TRAINING_FORWARD,
      { x: input as tf.Tensor4D, gamma: scale as tf.Tensor1D, beta: offset as tf.Tensor1D },
      { epsilon },
    ) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    statistics = { mean: tf.keep(mean), variance: tf.keep(variance) };
    (save as tf.GradSaveFunc)([input as tf.Tensor, mean, inverseStd, scale as tf.Tensor]);
    return {
      value: output,
      gradFunc: (dy, saved) => {
        const [savedInput, savedMean, savedInverseStd, savedScale] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        return tf.engine().runKernel(BATCH_NORM_TRAINING_BACKWARD, {
          dy,
          x: savedInput,
          mean: savedMean,
          inverseStd: savedInverseStd,
          gamma: savedScale,
        }) as tf.Tensor[];
      },
    };
  });
  const output = normalise(x, gamma, beta) as tf.Tensor4D;
  const { mean, variance } = statistics!;
  return { output, mean, variance };
}

function batchNormByOps(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormInTraining {
  let statistics: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null = null;
  const normalise = tf.customGrad((input, scale, offset, save) => {
    const mean = tf.mean(input as tf.Tensor4D, STATISTICS_AXES) as tf.Tensor1D;
    const centred = tf.sub(input as tf.Tensor4D, mean);
    const variance = tf.mean(tf.square(centred), STATISTICS_AXES) as tf.Tensor1D;
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    // Inside customGrad nothing is taped; these two are handed out and released by the caller.
    statistics = { mean: tf.keep(mean), variance: tf.keep(variance) };
    (save as tf.GradSaveFunc)([centred, inverseStd, scale as tf.Tensor]);
    return {
      value: tf.add(tf.mul(centred, tf.mul(inverseStd, scale as tf.Tensor1D)), offset as tf.Tensor1D),
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
  });
  const output = normalise(x, gamma, beta) as tf.Tensor4D;
  const { mean, variance } = statistics!;
  return { output, mean, variance };
}
