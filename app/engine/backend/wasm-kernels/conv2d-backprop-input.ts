import * as tf from '@tensorflow/tfjs';

import { runWasmKernel, transposeOnWasm } from './wasm-kernel-calls.js';
import type { KernelReplacement } from '../kernel-registration.js';
import { kernelThreadsFor, splitEvenly } from './kernel-threads.js';
import { WasmHeap } from './wasm-heap.js';

/**
 * A faster Conv2DBackpropInput (dx of a convolution; also the forward pass of a transposed
 * convolution) for the wasm backend, whose own kernel runs about 10x slower than its Conv2D.
 * Two shapes cover a U-Net and are rewritten onto fast kernels; every other shape goes to the
 * backend's original kernel:
 * - stride 1: dx is a convolution of dy with the filter turned 180° and its channels swapped;
 * - kernel = stride, no padding (2x2/2 up-sampling): every input pixel feeds its own output
 *   block, so dx = dy . W^T (one MatMul) followed by a transpose that places the blocks.
 */
export const conv2dBackpropInputReplacement: KernelReplacement = {
  kernelName: tf.Conv2DBackpropInput,
  // The original's setup binds its wasm function, which the fallback path still calls.
  replace: (original) => ({
    ...original,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
      if (dataFormat === 'NHWC') {
        const convInfo = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode);
        const kernelBackend = backend as tf.KernelBackend;
        if (convInfo.strideHeight === 1 && convInfo.strideWidth === 1) {
          const result = stridelessAsConvolution(kernelBackend, dy, filter, convInfo);
          if (result) return result;
        }
        if (isBlockUpsampling(convInfo)) return blockUpsampling(kernelBackend, dy, filter, convInfo);
      }
      return original.kernelFunc(args);
    },
  }),
};

function stridelessAsConvolution(backend: tf.KernelBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  const { filterHeight, filterWidth, inHeight, inWidth, outHeight, outWidth, padInfo } = convInfo;
  const top = filterHeight - 1 - padInfo.top;
  const left = filterWidth - 1 - padInfo.left;
  const bottom = inHeight - outHeight - top + filterHeight - 1;
  const right = inWidth - outWidth - left + filterWidth - 1;
  if (Math.min(top, left, bottom, right) < 0) return null;
  const turned = turnedFilter(backend, filter);
  const dx = runWasmKernel(
    tf.Conv2D,
    backend,
    { x: dy, filter: turned },
    { strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1] },
  );
  backend.disposeData(turned.dataId);
  return dx;
}

/**
 * The filter turned 180 degrees with its in and out channels swapped:
 * turned[kh, kw, co, ci] = filter[KH-1-kh, KW-1-kw, ci, co], in the SIMD module
 * (../wasm-simd/turned-filter.c), threads taking different taps. The backend's Reverse kernel
 * took longer on these small tensors than the convolution that uses them.
 */
function turnedFilter(backend: tf.KernelBackend, filter: tf.TensorInfo): tf.TensorInfo {
  const [height, width, inChannels, outChannels] = filter.shape as [number, number, number, number];
  const memory = new WasmHeap(backend);
  const threads = kernelThreadsFor(memory.memory());
  const turned = memory.allocate([height, width, outChannels, inChannels]);
  const taps = height * width;
  threads.run(
    splitEvenly(taps, threads.piecesFor(tf.util.sizeFromShape(filter.shape))).map(([tapBegin, tapEnd]) => [
      { kernel: 'turnedFilter', args: [memory.byteOffsetOf(filter), taps, inChannels, outChannels, tapBegin, tapEnd, memory.byteOffsetOf(turned)] },
    ]),
  );
  return turned;
}

function isBlockUpsampling(convInfo: tf.backend_util.Conv2DInfo): boolean {
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo, inHeight, inWidth, outHeight, outWidth } = convInfo;
  return (
    filterHeight === strideHeight &&
    filterWidth === strideWidth &&
    filterHeight === filterWidth &&
    padInfo.top === 0 &&
    padInfo.left === 0 &&
    inHeight === outHeight * strideHeight &&
    inWidth === outWidth * strideWidth
  );
}

/**
 * dx[n, i*s+a, j*s+b, ci] = sum over co of dy[n, i, j, co] * W[a, b, ci, co]: one MatMul of dy
 * ([pixels, Co]) with W laid out as [Co, (a, b, ci)], then a transpose that puts each pixel's
 * s x s block in place. Both avoid wasm kernels that are slow on these shapes (BatchMatMul with a
 * transposed operand, DepthToSpace).
 */
function blockUpsampling(backend: tf.KernelBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize, outHeight, outWidth, outChannels, inChannels, filterHeight: size } = convInfo;
  const block = size * size * inChannels;
  const pixels = batchSize * outHeight * outWidth;
  const dyMatrix = runWasmKernel(tf.Reshape, backend, { x: dy }, { shape: [1, pixels, outChannels] });
  const filterRows = runWasmKernel(tf.Reshape, backend, { x: filter }, { shape: [1, block, outChannels] });
  const filterMatrix = transposeOnWasm(backend, filterRows, [0, 2, 1]);
  const blocks = runWasmKernel(tf.BatchMatMul, backend, { a: dyMatrix, b: filterMatrix }, { transposeA: false, transposeB: false });
  // blocks is (n, i, j, a, (b, ci)); dx is (n, i, a, j, (b, ci)).
  const blockRows = runWasmKernel(tf.Reshape, backend, { x: blocks }, { shape: [batchSize * outHeight, outWidth, size, size * inChannels] });
  const placed = transposeOnWasm(backend, blockRows, [0, 2, 1, 3]);
  const dx = runWasmKernel(tf.Reshape, backend, { x: placed }, { shape: [batchSize, outHeight * size, outWidth * size, inChannels] });
  for (const intermediate of [dyMatrix, filterRows, filterMatrix, blocks, blockRows, placed]) backend.disposeData(intermediate.dataId);
  return dx;
}
