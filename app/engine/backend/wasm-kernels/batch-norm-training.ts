import type * as tf from '@tensorflow/tfjs';

import { type KernelThreads, kernelThreadsFor, splitEvenly } from './kernel-threads.js';
import { WasmHeap } from './wasm-heap.js';

/**
 * Training-mode batch normalisation as two wasm kernels (the SIMD passes of batch-norm.c), which
 * batchNormInTraining uses on the wasm backend for [N, H, W, C] tensors with C a multiple of 4.
 * Threads share each pass by bands of pixels; the per-channel step between the passes adds up
 * the bands' sums.
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

/**
 * The pixels' bands, as many as the size pays off for, each with the byte offset of its sums in
 * `sums`, allocated here (2C doubles, as 4C floats, per band).
 */
function pixelBands(memory: WasmHeap, threads: KernelThreads, pixels: number, channels: number): { sums: tf.TensorInfo; bands: { begin: number; end: number; sums: number }[] } {
  const ranges = splitEvenly(pixels, threads.piecesFor(PASS_WORK * pixels * channels));
  const sums = memory.allocate([ranges.length * 4 * channels]);
  const setBytes = 4 * channels * Float32Array.BYTES_PER_ELEMENT;
  return { sums, bands: ranges.map(([begin, end], band) => ({ begin, end, sums: memory.byteOffsetOf(sums) + band * setBytes })) };
}

/** Element operations per value of one pass over a tensor, to decide how many threads it takes. */
const PASS_WORK = 4;

export const batchNormTrainingForwardConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAINING_FORWARD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
    const { epsilon } = attrs as { epsilon: number };
    const { pixels, channels } = layout(x);
    const memory = new WasmHeap(backend as tf.KernelBackend);
    const threads = kernelThreadsFor(memory.memory());
    const y = memory.allocate(x.shape);
    const [mean, variance, inverseStd] = [0, 1, 2].map(() => memory.allocate([channels])) as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
    const { sums, bands } = pixelBands(memory, threads, pixels, channels);
    const scale = memory.allocate([channels]);
    const at = (tensor: tf.TensorInfo) => memory.byteOffsetOf(tensor);
    const row = (tensor: tf.TensorInfo, pixel: number) => at(tensor) + pixel * channels * Float32Array.BYTES_PER_ELEMENT;
    threads.run(bands.map((band) => [{ kernel: 'batchNormSums', args: [row(x, band.begin), band.end - band.begin, channels, band.sums] }]));
    threads.run([[{ kernel: 'batchNormStatistics', args: [at(sums), bands.length, pixels, channels, at(gamma), epsilon, at(mean), at(variance), at(inverseStd), at(scale)] }]]);
    threads.run(bands.map((band) => [{ kernel: 'batchNormApply', args: [row(x, band.begin), row(y, band.begin), band.end - band.begin, channels, at(mean), at(scale), at(beta)] }]));
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
    const threads = kernelThreadsFor(memory.memory());
    const dx = memory.allocate(x.shape);
    const dgamma = memory.allocate([channels]);
    const dbeta = memory.allocate([channels]);
    const { sums, bands } = pixelBands(memory, threads, pixels, channels);
    const coefficients = memory.allocate([3 * channels]);
    const at = (tensor: tf.TensorInfo) => memory.byteOffsetOf(tensor);
    const row = (tensor: tf.TensorInfo, pixel: number) => at(tensor) + pixel * channels * Float32Array.BYTES_PER_ELEMENT;
    threads.run(bands.map((band) => [{ kernel: 'batchNormGradientSums', args: [row(dy, band.begin), row(x, band.begin), band.end - band.begin, channels, at(mean), band.sums] }]));
    threads.run([[{ kernel: 'batchNormGradientCoefficients', args: [at(sums), bands.length, pixels, channels, at(inverseStd), at(gamma), at(dgamma), at(dbeta), at(coefficients)] }]]);
    threads.run(bands.map((band) => [{ kernel: 'batchNormGradientApply', args: [row(dy, band.begin), row(x, band.begin), band.end - band.begin, channels, at(mean), at(coefficients), row(dx, band.begin)] }]));
    for (const scratch of [sums, coefficients]) (backend as tf.KernelBackend).disposeData(scratch.dataId);
    return [dx, dgamma, dbeta];
  },
};
