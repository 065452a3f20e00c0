import * as tf from '@tensorflow/tfjs';

/**
 * tfjs Conv2D kernels are [kh, kw, in, out] and ONNX Conv wants [out, in, kh, kw]; tfjs
 * Conv2DTranspose kernels are [kh, kw, out, in] and ONNX ConvTranspose wants [in, out, kh, kw].
 * Both are the same permutation of axes.
 */
const KERNEL_TO_ONNX = [3, 2, 0, 1];

export interface OnnxWeight {
  values: Float32Array;
  dims: number[];
}

export function kernelToOnnx(kernel: tf.Tensor): OnnxWeight {
  const transposed = tf.transpose(kernel, KERNEL_TO_ONNX);
  try {
    return { values: transposed.dataSync() as Float32Array, dims: transposed.shape };
  } finally {
    transposed.dispose();
  }
}

export interface BatchNormWeights {
  gamma: Float32Array | null;
  beta: Float32Array | null;
  movingMean: Float32Array;
  movingVariance: Float32Array;
  epsilon: number;
}

/**
 * Folds inference-mode batch normalisation, y = gamma (x - mean) / sqrt(var + eps) + beta, into the
 * convolution that produces x: its weights are scaled per output channel and it gains a bias.
 * `channelAxis` is the output-channel axis of the ONNX weight (0 for Conv, 1 for ConvTranspose).
 */
export function foldBatchNorm(weight: OnnxWeight, bias: Float32Array | null, norm: BatchNormWeights, channelAxis: number): { weight: OnnxWeight; bias: Float32Array } {
  const channels = weight.dims[channelAxis]!;
  const scale = Float64Array.from(norm.movingVariance, (variance, c) => (norm.gamma?.[c] ?? 1) / Math.sqrt(variance + norm.epsilon));
  const foldedBias = Float32Array.from(scale, (s, c) => ((bias?.[c] ?? 0) - norm.movingMean[c]!) * s + (norm.beta?.[c] ?? 0));
  const stride = weight.dims.slice(channelAxis + 1).reduce((product, dim) => product * dim, 1);
  const values = Float32Array.from(weight.values, (value, index) => value * scale[Math.floor(index / stride) % channels]!);
  return { weight: { values, dims: weight.dims }, bias: foldedBias };
}
