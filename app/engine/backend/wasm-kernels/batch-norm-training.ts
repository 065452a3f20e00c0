import type * as tf from '@tensorflow/tfjs';

import { simdKernelsFor } from '../wasm-simd/simd-kernels.js';
import { WasmHeap } from './wasm-heap.js';

/**
 * Training-mode batch normalisation as two wasm kernels (the SIMD passes of batch-norm.c), which
 * batchNormInTraining uses on the wasm backend for [N, H, W, C] tensors with C a multiple of 4.
 *
 * Forward: inputs x, gamma, beta; attr epsilon; outputs y, mean, variance, inverseStd.
 * Backward: inputs dy, x, mean, inverseStd, gamma; outputs dx, dgamma, dbeta.
 */
export const BATCH_NORM_TRAINING_FORWARD = 'UnetStudioBatchNormTrainingForward';
export const BATCH_NORM_TRAINING_BACKWARD = 'UnetStudioBatchNormTrainingBackward';

/** Channel counts the kernels take (the SIMD width). */
export function batchNormKernelsSupport(channels: number): boolean {
  return channels % 4 === 0;
}

function layout(x: tf.TensorInfo): { pixels: number; channels: number } {
  const channels = x.shape[x.shape.length - 1]!;
  const pixels = x.shape.reduce((product, size) => product * size, 1) / channels;
  return { pixels, channels };
}

export const batchNormTrainingForwardConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAINING_FORWARD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
    const { epsilon } = attrs as { epsilon: number };
    const { pixels, channels } = layout(x);
    const memory = new WasmHeap(backend as tf.KernelBackend);
    const y = memory.allocate(x.shape);
    const [mean, variance, inverseStd] = [0, 1, 2].map(() => memory.allocate([channels])) as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
    const sums = memory.allocate([4 * channels]);
    const scale = memory.allocate([channels]);
    const at = (tensor: tf.TensorInfo) => memory.byteOffsetOf(tensor);
    simdKernelsFor(memory.memory()).batchNorm.forward(at(x), at(y), pixels, channels, at(gamma), at(beta), epsilon, at(mean), at(variance), at(inverseStd), at(sums), at(scale));
    for (const scratch of [sums, scale]) (backend as tf.KernelBackend).disposeData(scratch.dataId);
    return [y, mean, variance, inverseStd];
  },
};

export const batchNormTrainingBackwardConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAINING_BACKWARD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const { dy, x, mean, inverseStd, gamma } = inputs as Record<'dy' | 'x' | 'mean' | 'inverseStd' | 'gamma', tf.TensorInfo>;
    const { pixels, channels } = layout(x);
    const memory = new WasmHeap(backend as tf.KernelBackend);
    const dx = memory.allocate(x.shape);
    const dgamma = memory.allocate([channels]);
    const dbeta = memory.allocate([channels]);
    const sums = memory.allocate([4 * channels]);
    const coefficients = memory.allocate([3 * channels]);
    const at = (tensor: tf.TensorInfo) => memory.byteOffsetOf(tensor);
    simdKernelsFor(memory.memory()).batchNorm.backward(at(dy), at(x), pixels, channels, at(mean), at(inverseStd), at(gamma), at(dx), at(dgamma), at(dbeta), at(sums), at(coefficients));
    for (const scratch of [sums, coefficients]) (backend as tf.KernelBackend).disposeData(scratch.dataId);
    return [dx, dgamma, dbeta];
  },
};
