import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';

import { simdKernelsFor, WINOGRAD_SCRATCH_FLOATS } from '../wasm-simd/simd-kernels.js';
import type { KernelReplacement } from '../kernel-registration.js';
import { WasmHeap } from './wasm-heap.js';

/**
 * 3x3 stride-1 convolutions by Winograd F(4x4, 3x3): 36 multiplies per 16 outputs and input
 * channel instead of 144. The transforms and the 36 [tiles, Ci] x [Ci, Co] products all run in a
 * small SIMD wasm module (../wasm-simd/winograd-f43.c) working on the backend's heap; its products
 * beat 36 calls of the backend's BatchMatMul (XNNPACK), whose per-call costs (packing the
 * right-hand operand, making the output) were a third of the work. A U-Net's forward
 * convolutions and their input gradients (a convolution with the turned filter, see
 * conv2d-backprop-input.ts) come through here, and its filter gradients through
 * winogradFilterGradient. Other shapes, and channel counts that are not multiples of 4 (the SIMD
 * width), go to the original kernels.
 */
const TILE_VALUES = 36;

/**
 * Below this many 4x4 output tiles the filter transform (36 Ci x Co matrices per call) costs more
 * than it saves. Measured: one tile (a 4x4 output) with 256 channels ran 2.5x slower than the
 * direct convolution; from 4 tiles on, every U-Net shape ran faster (at 8x8, batch 4: 3.5 vs
 * 20 ms with 256 channels, 0.03 vs 0.05 ms with 16).
 */
const MIN_TILES = 4;

/**
 * The module runs on one thread, XNNPACK's direct convolutions on all the backend's threads. One
 * thread of Winograd did the work of about 3 of direct convolution on U-Net shapes, so from 3
 * threads on the backend's own kernels are left to run.
 */
const MAX_THREADS = 2;

/** Whether a convolution goes the Winograd way (otherwise to the original kernel). */
export function suitsWinograd(x: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo, threads = getThreadsCount()): boolean {
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, inChannels, outChannels, padInfo, dataFormat } = convInfo;
  return (
    threads <= MAX_THREADS &&
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
    x.shape[0]! * Math.ceil(convInfo.outHeight / 4) * Math.ceil(convInfo.outWidth / 4) >= MIN_TILES
  );
}

/**
 * The most memory one set of 36 transformed matrices may take. Larger tensors are transformed and
 * multiplied in chunks of whole images, or of tile rows of one image, so that a convolution never
 * needs much more memory than the direct one (the matrices of a whole tensor take 2.25x its size).
 */
export const WINOGRAD_CHUNK_BYTES = 64 * 1024 * 1024;

/** Part of a convolution's tiles: `images` images from `firstImage`, tile rows [rowBegin, rowEnd) of each. */
interface TileChunk {
  firstImage: number;
  images: number;
  rowBegin: number;
  rowEnd: number;
  tiles: number;
}

function tileChunks(convInfo: tf.backend_util.Conv2DInfo, chunkBytes: number): TileChunk[] {
  const { batchSize, inChannels, outChannels, outHeight, outWidth } = convInfo;
  const tilesHigh = Math.ceil(outHeight / 4);
  const tilesWide = Math.ceil(outWidth / 4);
  const maxTiles = Math.max(tilesWide, Math.floor(chunkBytes / (TILE_VALUES * Math.max(inChannels, outChannels) * Float32Array.BYTES_PER_ELEMENT)));
  const chunk = (firstImage: number, images: number, rowBegin: number, rowEnd: number): TileChunk => ({
    firstImage,
    images,
    rowBegin,
    rowEnd,
    tiles: images * (rowEnd - rowBegin) * tilesWide,
  });
  const chunks: TileChunk[] = [];
  const tilesPerImage = tilesHigh * tilesWide;
  if (tilesPerImage <= maxTiles) {
    const imagesPerChunk = Math.floor(maxTiles / tilesPerImage);
    for (let n = 0; n < batchSize; n += imagesPerChunk) chunks.push(chunk(n, Math.min(imagesPerChunk, batchSize - n), 0, tilesHigh));
  } else {
    const rowsPerChunk = Math.floor(maxTiles / tilesWide);
    for (let n = 0; n < batchSize; n++) {
      for (let row = 0; row < tilesHigh; row += rowsPerChunk) chunks.push(chunk(n, 1, row, Math.min(row + rowsPerChunk, tilesHigh)));
    }
  }
  return chunks;
}

/** Byte offset of image `n` of a [N, H, W, C] tensor. */
function imageOffset(memory: WasmHeap, tensor: tf.TensorInfo, n: number): number {
  const [, height, width, channels] = tensor.shape as [number, number, number, number];
  return memory.byteOffsetOf(tensor) + n * height * width * channels * Float32Array.BYTES_PER_ELEMENT;
}

/** y = conv(x, filter) (+ bias, then ReLU when asked) by Winograd F(4x4, 3x3). */
export function winogradConvolution(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  convInfo: tf.backend_util.Conv2DInfo,
  bias: tf.TensorInfo | null,
  relu: boolean,
  chunkBytes = WINOGRAD_CHUNK_BYTES,
): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, padInfo } = convInfo;
  const tilesWide = Math.ceil(outWidth / 4);
  const memory = new WasmHeap(backend);
  const transforms = simdKernelsFor(memory.memory()).winogradF43;
  const y = memory.allocate([batchSize, outHeight, outWidth, outChannels]);
  return withTemporaries(backend, y, (temporaries) => {
    const scratch = temporaries.tensor(memory.allocate([WINOGRAD_SCRATCH_FLOATS]));
    const filters = matrixSet(memory, temporaries, inChannels, outChannels);
    transforms.filter(memory.byteOffsetOf(filter), inChannels, outChannels, memory.byteOffsetOf(filters.table));
    for (const { firstImage, images, rowBegin, rowEnd, tiles } of tileChunks(convInfo, chunkBytes)) {
      withTemporaries(backend, null, (chunk) => {
        const inputs = matrixSet(memory, chunk, tiles, inChannels);
        const products = matrixSet(memory, chunk, tiles, outChannels);
        transforms.input(imageOffset(memory, x, firstImage), images, inHeight, inWidth, inChannels, padInfo.top, padInfo.left, rowBegin, rowEnd, tilesWide, memory.byteOffsetOf(inputs.table), memory.byteOffsetOf(scratch));
        transforms.products(memory.byteOffsetOf(inputs.table), memory.byteOffsetOf(filters.table), tiles, inChannels, outChannels, memory.byteOffsetOf(products.table));
        transforms.output(
          memory.byteOffsetOf(products.table),
          imageOffset(memory, y, firstImage),
          images,
          outHeight,
          outWidth,
          outChannels,
          rowBegin,
          rowEnd,
          tilesWide,
          bias === null ? 0 : memory.byteOffsetOf(bias),
          relu ? 1 : 0,
          memory.byteOffsetOf(scratch),
        );
      });
    }
  });
}

/**
 * dW of the same convolution, by the same algorithm run backwards: with Y = A^T [U . V] A per tile
 * and U = G g G^T, dU = sum over tiles of (A dY A^T) . V and dW = G^T dU G. The sum over tiles is
 * 36 products V_k^T [Ci, tiles] x dM_k [tiles, Co], a quarter of the multiplies of one GEMM per
 * filter tap (conv2d-backprop-filter.ts), computed in the wasm module (see
 * winograd_f43_filter_products). Chunks add their dW.
 */
export function winogradFilterGradient(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  convInfo: tf.backend_util.Conv2DInfo,
  chunkBytes = WINOGRAD_CHUNK_BYTES,
): tf.TensorInfo {
  const { inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, padInfo } = convInfo;
  const tilesWide = Math.ceil(outWidth / 4);
  const memory = new WasmHeap(backend);
  const transforms = simdKernelsFor(memory.memory()).winogradF43;
  const dW = memory.allocate([3, 3, inChannels, outChannels]);
  return withTemporaries(backend, dW, (temporaries) => {
    const scratch = temporaries.tensor(memory.allocate([WINOGRAD_SCRATCH_FLOATS]));
    const chunks = tileChunks(convInfo, chunkBytes);
    const chunkGradient = chunks.length > 1 ? temporaries.tensor(memory.allocate(dW.shape)) : dW;
    chunks.forEach(({ firstImage, images, rowBegin, rowEnd, tiles }, index) => {
      withTemporaries(backend, null, (chunk) => {
        const inputs = matrixSet(memory, chunk, tiles, inChannels);
        const outputGradients = matrixSet(memory, chunk, tiles, outChannels);
        const products = matrixSet(memory, chunk, inChannels, outChannels);
        transforms.input(imageOffset(memory, x, firstImage), images, inHeight, inWidth, inChannels, padInfo.top, padInfo.left, rowBegin, rowEnd, tilesWide, memory.byteOffsetOf(inputs.table), memory.byteOffsetOf(scratch));
        transforms.outputGradient(imageOffset(memory, dy, firstImage), images, outHeight, outWidth, outChannels, rowBegin, rowEnd, tilesWide, memory.byteOffsetOf(outputGradients.table), memory.byteOffsetOf(scratch));
        transforms.filterProducts(memory.byteOffsetOf(inputs.table), memory.byteOffsetOf(outputGradients.table), tiles, inChannels, outChannels, memory.byteOffsetOf(products.table));
        transforms.filterGradient(memory.byteOffsetOf(products.table), inChannels, outChannels, memory.byteOffsetOf(index === 0 ? dW : chunkGradient));
      });
      if (index > 0) addInto(memory, dW, chunkGradient);
    });
  });
}

function addInto(memory: WasmHeap, sum: tf.TensorInfo, term: tf.TensorInfo): void {
  const heap = memory.heap();
  const target = memory.offsetOf(sum);
  const source = memory.offsetOf(term);
  const size = sum.shape.reduce((product, length) => product * length, 1);
  for (let i = 0; i < size; i++) heap[target + i]! += heap[source + i]!;
}

/** 36 matrices in one buffer, and the table of their byte offsets that the wasm functions take. */
interface MatrixSet {
  buffer: tf.TensorInfo;
  table: tf.TensorInfo;
}

/**
 * The matrices lie 16 floats apart beyond their size: matrices of a power-of-two size placed back
 * to back put the 36 rows a transform writes at once in the same cache sets, and the transforms
 * ran twice as slow.
 */
function matrixSet(memory: WasmHeap, temporaries: Temporaries, rows: number, columns: number): MatrixSet {
  const stride = rows * columns + 16;
  const buffer = temporaries.tensor(memory.allocate([TILE_VALUES * stride]));
  const table = temporaries.tensor(memory.allocate([TILE_VALUES], 'int32'));
  const heap = memory.int32Heap();
  const start = memory.byteOffsetOf(table) / Int32Array.BYTES_PER_ELEMENT;
  for (let k = 0; k < TILE_VALUES; k++) heap[start + k] = memory.byteOffsetOf(buffer) + k * stride * Float32Array.BYTES_PER_ELEMENT;
  return { buffer, table };
}

/** The temporary tensors of one step, released when it ends, whether it returns or throws. */
interface Temporaries {
  tensor(tensor: tf.TensorInfo): tf.TensorInfo;
}

/**
 * Runs `step` and releases the temporaries it registered; on a throw (the wasm heap out of memory)
 * it releases `result` too, so that a failed kernel leaves nothing allocated. Returns `result`.
 */
function withTemporaries<Result extends tf.TensorInfo | null>(backend: tf.KernelBackend, result: Result, step: (temporaries: Temporaries) => void): Result {
  const tensors: tf.TensorInfo[] = [];
  const temporaries: Temporaries = { tensor: (tensor) => (tensors.push(tensor), tensor) };
  try {
    step(temporaries);
  } catch (err) {
    if (result !== null) tensors.push(result);
    throw err;
  } finally {
    for (const tensor of tensors) backend.disposeData(tensor.dataId);
  }
  return result;
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
