import * as tf from '@tensorflow/tfjs';

import { simdKernelsFor, WINOGRAD_SCRATCH_FLOATS } from '../wasm-simd/simd-kernels.js';
import type { KernelReplacement } from './kernel-replacement.js';
import { runWasmKernel } from './wasm-kernel-calls.js';
import { WasmHeap } from './wasm-heap.js';

/**
 * 3x3 stride-1 convolutions by Winograd F(4x4, 3x3): 36 multiplies per 16 outputs and input
 * channel instead of 144. The input and output transforms run in a small SIMD wasm module
 * (../wasm-simd) working on the backend's heap; the 36 [tiles, Ci] x [Ci, Co] products run on
 * XNNPACK's GEMM. On a batch-4 U-Net's layer shapes the products took a third of the time of the
 * backend's direct convolution. A U-Net's forward convolutions and their input gradients (a
 * convolution with the turned filter, see conv2d-backprop-input.ts) both come through here.
 * Other shapes, and channel counts that are not multiples of 4 (the SIMD width), go to the original.
 */
const TILE_VALUES = 36;

/**
 * Below these sizes the fixed costs win: transforming and packing 36 filter matrices per call,
 * and 108 temporary tensors. Measured on a U-Net's shapes: at 8x8 with batch 4 (16 tiles) the
 * direct convolution was 1.4x faster, at 16x16 (64 tiles) Winograd was 1.6x faster.
 */
const MIN_TILES = 64;
const MIN_CHANNEL_PRODUCT = 256;

/** Whether a convolution goes the Winograd way (otherwise to the original kernel). */
export function suitsWinograd(x: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo): boolean {
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, inChannels, outChannels, padInfo, dataFormat } = convInfo;
  return (
    x.dtype === 'float32' &&
    dataFormat === 'channelsLast' &&
    filterHeight === 3 &&
    filterWidth === 3 &&
    strideHeight === 1 &&
    strideWidth === 1 &&
    dilationHeight === 1 &&
    dilationWidth === 1 &&
    inChannels % 4 === 0 &&
    outChannels % 4 === 0 &&
    padInfo.top <= 2 &&
    padInfo.left <= 2 &&
    x.shape[0]! * Math.ceil(convInfo.outHeight / 4) * Math.ceil(convInfo.outWidth / 4) >= MIN_TILES &&
    inChannels * outChannels >= MIN_CHANNEL_PRODUCT
  );
}

/** y = conv(x, filter) (+ bias, then ReLU when asked) by Winograd F(4x4, 3x3). */
function winogradConvolution(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  convInfo: tf.backend_util.Conv2DInfo,
  bias: tf.TensorInfo | null,
  relu: boolean,
): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, padInfo } = convInfo;
  const tilesHigh = Math.ceil(outHeight / 4);
  const tilesWide = Math.ceil(outWidth / 4);
  const tiles = batchSize * tilesHigh * tilesWide;
  const memory = new WasmHeap(backend);
  const transforms = simdKernelsFor(memory.memory()).winogradF43;

  const inputTable = memory.allocate([TILE_VALUES], 'int32');
  const filterTable = memory.allocate([TILE_VALUES], 'int32');
  const productTable = memory.allocate([TILE_VALUES], 'int32');
  const scratch = memory.allocate([WINOGRAD_SCRATCH_FLOATS]);
  const transformedInputs = Array.from({ length: TILE_VALUES }, () => memory.allocate([1, tiles, inChannels]));
  const transformedFilters = Array.from({ length: TILE_VALUES }, () => memory.allocate([1, inChannels, outChannels]));
  writeTable(memory, inputTable, transformedInputs);
  writeTable(memory, filterTable, transformedFilters);
  transforms.input(memory.byteOffsetOf(x), batchSize, inHeight, inWidth, inChannels, padInfo.top, padInfo.left, tilesHigh, tilesWide, memory.byteOffsetOf(inputTable), memory.byteOffsetOf(scratch));
  transforms.filter(memory.byteOffsetOf(filter), inChannels, outChannels, memory.byteOffsetOf(filterTable));

  const products = transformedInputs.map((a, k) =>
    runWasmKernel(tf.BatchMatMul, backend, { a, b: transformedFilters[k]! }, { transposeA: false, transposeB: false }),
  );
  writeTable(memory, productTable, products);
  const y = memory.allocate([batchSize, outHeight, outWidth, outChannels]);
  transforms.output(
    memory.byteOffsetOf(productTable),
    memory.byteOffsetOf(y),
    batchSize,
    outHeight,
    outWidth,
    outChannels,
    tilesHigh,
    tilesWide,
    bias === null ? 0 : memory.byteOffsetOf(bias),
    relu ? 1 : 0,
    memory.byteOffsetOf(scratch),
  );
  for (const intermediate of [inputTable, filterTable, productTable, scratch, ...transformedInputs, ...transformedFilters, ...products]) {
    backend.disposeData(intermediate.dataId);
  }
  return y;
}

/** Lists the tensors' byte offsets in `table`, the form the wasm transforms take them in. */
function writeTable(memory: WasmHeap, table: tf.TensorInfo, tensors: tf.TensorInfo[]): void {
  const heap = memory.int32Heap();
  const start = memory.byteOffsetOf(table) / Int32Array.BYTES_PER_ELEMENT;
  tensors.forEach((tensor, index) => {
    heap[start + index] = memory.byteOffsetOf(tensor);
  });
}

function convInfoOf(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.Conv2DAttrs): tf.backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs;
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
}

export const winogradConv2DReplacement: KernelReplacement = {
  kernelName: tf.Conv2D,
  replace: (original) => ({
    ...original,
    kernelFunc: (args) => {
      const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
      const convInfo = convInfoOf(x, filter, args.attrs as unknown as tf.Conv2DAttrs);
      if (!suitsWinograd(x, convInfo)) return original.kernelFunc(args);
      return winogradConvolution(args.backend as tf.KernelBackend, x, filter, convInfo, null, false);
    },
  }),
};

export const winogradFusedConv2DReplacement: KernelReplacement = {
  kernelName: tf.FusedConv2D,
  replace: (original) => ({
    ...original,
    kernelFunc: (args) => {
      const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const attrs = args.attrs as unknown as tf.FusedConv2DAttrs;
      const convInfo = convInfoOf(x!, filter!, attrs);
      const supportedBias = bias === undefined || (bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === convInfo.outChannels);
      const supportedActivation = attrs.activation === 'linear' || attrs.activation === 'relu';
      if (!suitsWinograd(x!, convInfo) || !supportedBias || !supportedActivation || preluActivationWeights !== undefined) {
        return original.kernelFunc(args);
      }
      return winogradConvolution(args.backend as tf.KernelBackend, x!, filter!, convInfo, bias ?? null, attrs.activation === 'relu');
    },
  }),
};
