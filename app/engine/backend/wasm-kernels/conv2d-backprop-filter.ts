import * as tf from '@tensorflow/tfjs';

import { runWasmKernel, transposeOnWasm } from './wasm-kernel-calls.js';
import { kernelThreadsFor, splitEvenly } from './kernel-threads.js';
import { WasmHeap } from './wasm-heap.js';
import { suitsWinograd, winogradFilterGradient } from './winograd-conv2d.js';

/**
 * Conv2DBackpropFilter (dW of a 2-D convolution) for the wasm backend, which ships without it in
 * tfjs-backend-wasm 4.22.
 *
 * dW[kh, kw, ci, co] = sum over n, oh, ow of x[n, oh*sh + kh - top, ow*sw + kw - left, ci] * dy[n, oh, ow, co]
 *
 * For one filter tap (kh, kw) that is a matrix product: dW[kh, kw] = T^T . dY, with T^T [Ci, P]
 * holding, per input channel, the pixel the tap reads at each of the P = N*OH*OW output positions
 * (zero where it reads padding) and dY = dy as [P, Co]. Each tap's T^T is gathered from x's
 * channel planes, then XNNPACK's GEMM (BatchMatMul) does the arithmetic; it packs dY once and
 * reuses it for every tap because it caches the packed right-hand side per tensor. On a batch-4
 * U-Net's layers below the first this ran at ~27 GFLOPS where one dilated convolution with channels
 * and batch swapped (the earlier kernel) ran at ~8, and it needs memory for one tap at a time.
 */
export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (dataFormat === 'NCHW') {
      throw new Error("wasm Conv2DBackpropFilter supports only dataFormat 'NHWC'.");
    }
    const convInfo = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
    const kernelBackend = backend as tf.KernelBackend;
    if (isNarrowPointwise(convInfo)) return narrowPointwiseGradient(kernelBackend, x, dy, convInfo);
    if (suitsWinograd(x, convInfo)) return winogradFilterGradient(kernelBackend, x, dy, convInfo);
    if (suitsPaddedPlanes(convInfo)) return filterGradientByPaddedPlanes(kernelBackend, x, dy, convInfo);
    return filterGradientByTaps(kernelBackend, x, dy, convInfo);
  },
};

/**
 * A 1x1 convolution to a few channels, like a U-Net's head: dW = x^T . dy straight from x's memory.
 * The backend multiplies a transposed operand with plain loops, which for a handful of output
 * channels beats transposing x for the GEMM (2.4 vs 3.6 ms for a [4, 128, 128, 16] input).
 */
const NARROW_POINTWISE_CHANNELS = 8;

function isNarrowPointwise({ filterHeight, filterWidth, strideHeight, strideWidth, padInfo, outChannels }: tf.backend_util.Conv2DInfo): boolean {
  const unpadded = padInfo.top === 0 && padInfo.left === 0 && padInfo.bottom === 0 && padInfo.right === 0;
  return filterHeight === 1 && filterWidth === 1 && strideHeight === 1 && strideWidth === 1 && unpadded && outChannels <= NARROW_POINTWISE_CHANNELS;
}

function narrowPointwiseGradient(backend: tf.KernelBackend, x: tf.TensorInfo, dy: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { inChannels, outChannels } = convInfo;
  const positions = x.shape[0] * x.shape[1] * x.shape[2];
  const xMatrix = runWasmKernel(tf.Reshape, backend, { x }, { shape: [1, positions, inChannels] });
  const dyMatrix = runWasmKernel(tf.Reshape, backend, { x: dy }, { shape: [1, positions, outChannels] });
  const product = runWasmKernel(tf.BatchMatMul, backend, { a: xMatrix, b: dyMatrix }, { transposeA: true, transposeB: false });
  const dW = runWasmKernel(tf.Reshape, backend, { x: product }, { shape: [1, 1, inChannels, outChannels] });
  for (const intermediate of [xMatrix, dyMatrix, product]) backend.disposeData(intermediate.dataId);
  return dW;
}

function filterGradientByTaps(backend: tf.KernelBackend, x: tf.TensorInfo, dy: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize, inChannels, outChannels, outHeight, outWidth } = convInfo;
  const positions = batchSize * outHeight * outWidth;
  const memory = new WasmHeap(backend);
  const channelPlanes = transposeOnWasm(backend, x, [3, 0, 1, 2]);
  const dyMatrix = runWasmKernel(tf.Reshape, backend, { x: dy }, { shape: [1, positions, outChannels] });
  const tapMatrix = memory.allocate([1, inChannels, positions]);
  const dW = gradientPerTap(backend, memory, convInfo, dyMatrix, (kh, kw) => {
    gatherTap(memory, channelPlanes, tapMatrix, convInfo, kh, kw);
    return tapMatrix;
  });
  for (const intermediate of [channelPlanes, dyMatrix, tapMatrix]) backend.disposeData(intermediate.dataId);
  return dW;
}

/**
 * Stride-1 'same' convolutions on images large enough that padding them costs little: the input's
 * channel planes are padded to (H + KH - 1) x (W + KW - 1) and laid back to back, and dy is padded
 * the same way (zero in the extra rows and columns). Then every tap's T^T is one contiguous slice
 * of the planes, shifted by kh * paddedWidth + kw, taken as a view with no copy at all; a position
 * that reads across an image's edge meets a zero of padded dy. Padding adds 2 / H of the GEMM's
 * work per dimension, so small images keep the gathered taps.
 */
const MIN_PADDED_PLANES_SIZE = 32;

function suitsPaddedPlanes({ strideHeight, strideWidth, dilationHeight, dilationWidth, inHeight, inWidth, outHeight, outWidth }: tf.backend_util.Conv2DInfo): boolean {
  return (
    strideHeight === 1 &&
    strideWidth === 1 &&
    dilationHeight === 1 &&
    dilationWidth === 1 &&
    outHeight === inHeight &&
    outWidth === inWidth &&
    Math.min(inHeight, inWidth) >= MIN_PADDED_PLANES_SIZE
  );
}

function filterGradientByPaddedPlanes(backend: tf.KernelBackend, x: tf.TensorInfo, dy: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outChannels, filterHeight, filterWidth, padInfo } = convInfo;
  const paddedHeight = inHeight + filterHeight - 1;
  const paddedWidth = inWidth + filterWidth - 1;
  const positions = batchSize * paddedHeight * paddedWidth;
  // The last plane's last tap reads this far past its end.
  const slack = (filterHeight - 1) * paddedWidth + filterWidth - 1;
  const memory = new WasmHeap(backend);
  const planes = memory.allocate([inChannels * positions + slack]);
  const paddedDy = memory.allocate([1, positions, outChannels]);
  const threads = kernelThreadsFor(memory.memory());
  threads.run(
    splitEvenly(batchSize, threads.piecesFor(2 * tf.util.sizeFromShape(x.shape))).map(([imageBegin, imageEnd]) => [
      {
        kernel: 'paddedChannelPlanes',
        args: [memory.byteOffsetOf(x), inHeight, inWidth, inChannels, padInfo.top, padInfo.left, paddedHeight, paddedWidth, positions, imageBegin, imageEnd, memory.byteOffsetOf(planes)],
      },
    ]),
  );
  const slackStart = memory.offsetOf(planes) + inChannels * positions;
  memory.heap().fill(0, slackStart, slackStart + slack);
  padRowsAndColumns(memory, dy, paddedDy, convInfo, paddedHeight, paddedWidth);
  const views: tf.TensorInfo[] = [];
  const dW = gradientPerTap(backend, memory, convInfo, paddedDy, (kh, kw) => {
    views.push(memory.view(planes, kh * paddedWidth + kw, [1, inChannels, positions]));
    return views.at(-1)!;
  });
  for (const view of views) memory.releaseView(view);
  for (const intermediate of [planes, paddedDy]) backend.disposeData(intermediate.dataId);
  return dW;
}

/** dy [N, H, W, C] into the top-left of padded [N, paddedHeight, paddedWidth, C], zeros elsewhere. */
function padRowsAndColumns(memory: WasmHeap, dy: tf.TensorInfo, padded: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo, paddedHeight: number, paddedWidth: number): void {
  const { batchSize, outHeight, outWidth, outChannels } = convInfo;
  const heap = memory.heap();
  const source = memory.offsetOf(dy);
  const target = memory.offsetOf(padded);
  const rowLength = outWidth * outChannels;
  heap.fill(0, target, target + batchSize * paddedHeight * paddedWidth * outChannels);
  for (let n = 0; n < batchSize; n++) {
    for (let y = 0; y < outHeight; y++) {
      const from = source + (n * outHeight + y) * rowLength;
      heap.copyWithin(target + (n * paddedHeight + y) * paddedWidth * outChannels, from, from + rowLength);
    }
  }
}

/**
 * dW from one GEMM per filter tap, dW[kh, kw] = T^T . dY, with `tapMatrix` giving each tap's T^T
 * ([1, Ci, P], P matching dyMatrix's [1, P, Co]). XNNPACK packs dyMatrix once and reuses it for
 * every tap.
 */
function gradientPerTap(
  backend: tf.KernelBackend,
  memory: WasmHeap,
  { filterHeight, filterWidth, inChannels, outChannels }: tf.backend_util.Conv2DInfo,
  dyMatrix: tf.TensorInfo,
  tapMatrix: (kh: number, kw: number) => tf.TensorInfo,
): tf.TensorInfo {
  const blockSize = inChannels * outChannels;
  const dW = memory.allocate([filterHeight, filterWidth, inChannels, outChannels]);
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const block = runWasmKernel(tf.BatchMatMul, backend, { a: tapMatrix(kh, kw), b: dyMatrix }, { transposeA: false, transposeB: false });
      const start = memory.offsetOf(block);
      memory.heap().copyWithin(memory.offsetOf(dW) + (kh * filterWidth + kw) * blockSize, start, start + blockSize);
      backend.disposeData(block.dataId);
    }
  }
  return dW;
}

/**
 * Writes T^T for tap (kh, kw): row ci, column (n, oh, ow) = x[n, oh*sh + kh - top, ow*sw + kw - left, ci],
 * read from `channelPlanes` ([Ci, N, H, W]); zero where the tap falls in the padding.
 */
function gatherTap(memory: WasmHeap, channelPlanes: tf.TensorInfo, tapMatrix: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo, kh: number, kw: number): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth, padInfo } = convInfo;
  const heap = memory.heap();
  const planes = memory.offsetOf(channelPlanes);
  const rowShift = kh - padInfo.top;
  const columnShift = kw - padInfo.left;
  // Output rows and columns whose input pixel lies inside the image; the rest read padding.
  const [firstRow, endRow] = insideRange(rowShift, strideHeight, inHeight, outHeight);
  const [firstColumn, endColumn] = insideRange(columnShift, strideWidth, inWidth, outWidth);
  const planeSize = outHeight * outWidth;
  // Stride 1 with as many output as input columns ('same'): a plane's rows are contiguous on both
  // sides, so one copy moves them all; the columns it wraps across row ends are zeroed after.
  const rowsContiguous = strideHeight === 1 && strideWidth === 1 && outWidth === inWidth;
  let target = memory.offsetOf(tapMatrix);
  for (let plane = 0; plane < inChannels * batchSize; plane++, target += planeSize) {
    const source = planes + plane * inHeight * inWidth + columnShift;
    fillZero(heap, target, target + firstRow * outWidth);
    fillZero(heap, target + endRow * outWidth, target + planeSize);
    if (rowsContiguous) {
      heap.copyWithin(target + firstRow * outWidth, source + (firstRow + rowShift) * inWidth, source + (endRow + rowShift) * inWidth);
      for (let oh = firstRow; oh < endRow; oh++) {
        fillZero(heap, target + oh * outWidth, target + oh * outWidth + firstColumn);
        fillZero(heap, target + oh * outWidth + endColumn, target + (oh + 1) * outWidth);
      }
      continue;
    }
    for (let oh = firstRow; oh < endRow; oh++) {
      const rowTarget = target + oh * outWidth;
      const rowSource = source + (oh * strideHeight + rowShift) * inWidth;
      fillZero(heap, rowTarget, rowTarget + firstColumn);
      if (strideWidth === 1) {
        heap.copyWithin(rowTarget + firstColumn, rowSource + firstColumn, rowSource + endColumn);
      } else {
        for (let ow = firstColumn; ow < endColumn; ow++) heap[rowTarget + ow] = heap[rowSource + ow * strideWidth]!;
      }
      fillZero(heap, rowTarget + endColumn, rowTarget + outWidth);
    }
  }
}

/** [first, end) of the output indices o whose input index o * stride + shift lies in [0, size). */
function insideRange(shift: number, stride: number, size: number, outSize: number): [number, number] {
  const first = Math.min(outSize, Math.max(0, Math.ceil(-shift / stride)));
  const end = Math.max(first, Math.min(outSize, Math.floor((size - 1 - shift) / stride) + 1));
  return [first, end];
}

function fillZero(heap: Float32Array, start: number, end: number): void {
  if (end === start + 1) heap[start] = 0;
  else if (end > start) heap.fill(0, start, end);
}
