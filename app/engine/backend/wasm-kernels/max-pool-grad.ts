import * as tf from '@tensorflow/tfjs';

import type { KernelReplacement } from '../kernel-registration.js';
import { kernelThreadsFor, splitEvenly } from './kernel-threads.js';
import { WasmHeap } from './wasm-heap.js';

/**
 * MaxPoolGrad for pooling windows that do not overlap and need no padding (a U-Net's 2x2 pooling
 * with stride 2): each output's gradient goes to the first maximum of its window, as in the cpu
 * backend, and every other input pixel gets zero. One SIMD pass (../wasm-simd/pooling-gradient.c),
 * threads taking whole images, where the wasm kernel took 25 ms on a [4, 128, 128, 16] input.
 * Other pooling goes to the original kernel.
 */
export const maxPoolGradReplacement: KernelReplacement = {
  kernelName: tf.MaxPoolGrad,
  replace: (original) => ({
    ...original,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
      const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
      const convInfo = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
      const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo, inHeight, inWidth, outHeight, outWidth } = convInfo;
      const tiles =
        filterHeight === strideHeight &&
        filterWidth === strideWidth &&
        padInfo.top === 0 &&
        padInfo.left === 0 &&
        outHeight * strideHeight <= inHeight &&
        outWidth * strideWidth <= inWidth;
      if (!tiles || input.dtype !== 'float32') return original.kernelFunc(args);
      return windowMaximumGradient(new WasmHeap(backend as tf.KernelBackend), dy, input, convInfo);
    },
  }),
};

function windowMaximumGradient(memory: WasmHeap, dy: tf.TensorInfo, input: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, filterHeight, filterWidth } = convInfo;
  const dx = memory.allocate(input.shape as number[]);
  const threads = kernelThreadsFor(memory.memory());
  const at = (tensor: tf.TensorInfo) => memory.byteOffsetOf(tensor);
  threads.run(
    splitEvenly(batchSize, threads.piecesFor(2 * tf.util.sizeFromShape(input.shape))).map(([imageBegin, imageEnd]) => [
      { kernel: 'windowMaximumGradient', args: [at(input), at(dy), at(dx), inHeight, inWidth, channels, outHeight, outWidth, filterHeight, filterWidth, imageBegin, imageEnd] },
    ]),
  );
  return dx;
}
