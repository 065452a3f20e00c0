import * as tf from '@tensorflow/tfjs';

import { type SimdKernelCall, WINOGRAD_SCRATCH_FLOATS } from '../wasm-simd/simd-kernels.js';
import type { KernelReplacement } from '../kernel-registration.js';
import { type KernelThreads, kernelThreadsFor, splitEvenly } from './kernel-threads.js';
import { WasmHeap } from './wasm-heap.js';

/**
 * 3x3 stride-1 convolutions by Winograd F(4x4, 3x3): 36 multiplies per 16 outputs and input
 * channel instead of 144. The transforms and the 36 [tiles, Ci] x [Ci, Co] products all run in a
 * small SIMD wasm module (../wasm-simd/winograd-f43.c) working on the backend's heap; its products
 * beat 36 calls of the backend's BatchMatMul (XNNPACK), whose per-call costs (packing the
 * right-hand operand, making the output) were a third of the work. A U-Net's forward
 * convolutions and their input gradients (a convolution with the turned filter, see
 * conv2d-backprop-input.ts) come through here, and its filter gradients through
 * winogradFilterGradient. Input channels are padded with zeros to a multiple of 4, the SIMD width
 * (a first layer's grey or RGB image); output channels must be one. Other shapes go to the
 * original kernels.
 */
const TILE_VALUES = 36;

/**
 * Below this many 4x4 output tiles the filter transform (36 Ci x Co matrices per call) costs more
 * than it saves. Measured: one tile (a 4x4 output) with 256 channels ran 2.5x slower than the
 * direct convolution; from 4 tiles on, every U-Net shape ran faster (at 8x8, batch 4: 3.5 vs
 * 20 ms with 256 channels, 0.03 vs 0.05 ms with 16).
 */
const MIN_TILES = 4;

/** Whether a convolution goes the Winograd way (otherwise to the original kernel). */
export function suitsWinograd(x: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo): boolean {
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, outChannels, padInfo, dataFormat } = convInfo;
  return (
    x.dtype === 'float32' &&
    dataFormat === 'channelsLast' &&
    filterHeight === 3 &&
    filterWidth === 3 &&
    strideHeight === 1 &&
    strideWidth === 1 &&
    dilationHeight === 1 &&
    dilationWidth === 1 &&
    outChannels % 4 === 0 &&
    padInfo.top <= 2 &&
    padInfo.left <= 2 &&
    x.shape[0]! * Math.ceil(convInfo.outHeight / 4) * Math.ceil(convInfo.outWidth / 4) >= MIN_TILES
  );
}

/**
 * The most memory one set of 36 transformed matrices may take, all threads together. Larger
 * tensors are transformed and multiplied in chunks of whole images, or of tile rows of one image,
 * so that a convolution never needs much more memory than the direct one (the matrices of a whole
 * tensor take 2.25x its size).
 */
export const WINOGRAD_CHUNK_BYTES = 64 * 1024 * 1024;

/** How tests take the chunked and the threaded paths on small tensors. */
export interface WinogradOptions {
  chunkBytes?: number;
  /** Threads to share the work; by default as many as pay off for its size (KernelThreads.piecesFor). */
  pieces?: number;
}

/** Part of a convolution's tiles: `images` images from `firstImage`, tile rows [rowBegin, rowEnd) of each. */
interface TileChunk {
  firstImage: number;
  images: number;
  rowBegin: number;
  rowEnd: number;
  tiles: number;
  /** Where the chunk starts among the tile rows of the batch, numbered image after image. */
  firstRow: number;
}

/**
 * Cuts tile rows [begin, end) of the batch (numbered image after image) into chunks of at most
 * `maxRows` rows that the C functions take: whole images, or rows of one image.
 */
function tileChunks(begin: number, end: number, tilesHigh: number, tilesWide: number, maxRows: number): TileChunk[] {
  const chunks: TileChunk[] = [];
  for (let row = begin; row < end; ) {
    const firstImage = Math.floor(row / tilesHigh);
    const within = row % tilesHigh;
    const wholeImages = within === 0 ? Math.min(Math.floor((end - row) / tilesHigh), Math.floor(maxRows / tilesHigh)) : 0;
    const images = Math.max(1, wholeImages);
    const [rowBegin, rowEnd] = wholeImages > 0 ? [0, tilesHigh] : [within, within + Math.min(tilesHigh - within, end - row, maxRows)];
    chunks.push({ firstImage, images, rowBegin, rowEnd, tiles: images * (rowEnd - rowBegin) * tilesWide, firstRow: row });
    row += images * (rowEnd - rowBegin);
  }
  return chunks;
}

/** Tile rows a chunk may have for its matrices to fit in `chunkBytes`. */
function chunkRows({ inChannels, outChannels, outWidth }: tf.backend_util.Conv2DInfo, chunkBytes: number): number {
  const tilesWide = Math.ceil(outWidth / 4);
  const maxTiles = Math.max(tilesWide, Math.floor(chunkBytes / (TILE_VALUES * Math.max(inChannels, outChannels) * Float32Array.BYTES_PER_ELEMENT)));
  return Math.floor(maxTiles / tilesWide);
}

/** Multiply-adds of a convolution's products plus its transforms, to decide how many threads it takes. */
function winogradWork({ batchSize, outHeight, outWidth, inChannels, outChannels }: tf.backend_util.Conv2DInfo): number {
  const tiles = batchSize * Math.ceil(outHeight / 4) * Math.ceil(outWidth / 4);
  return tiles * TILE_VALUES * (inChannels * outChannels + inChannels + outChannels);
}

/** Channels the transforms work on at once. */
const SIMD_WIDTH = 4;

function paddedChannels(channels: number): number {
  return Math.ceil(channels / SIMD_WIDTH) * SIMD_WIDTH;
}

/**
 * `tensor` seen as [rows, columns] with every row padded with zeros to `paddedColumns`: a new
 * tensor of `shape`.
 */
function padColumns(memory: WasmHeap, tensor: tf.TensorInfo, shape: number[], columns: number, paddedColumns: number): tf.TensorInfo {
  const rows = tf.util.sizeFromShape(tensor.shape) / columns;
  const padded = memory.allocate(shape);
  const threads = kernelThreadsFor(memory.memory());
  const floats = Float32Array.BYTES_PER_ELEMENT;
  threads.run(
    splitEvenly(rows, threads.piecesFor(rows * paddedColumns)).map(([begin, end]) => [
      { kernel: 'padColumns', args: [memory.byteOffsetOf(tensor) + begin * columns * floats, end - begin, columns, paddedColumns, memory.byteOffsetOf(padded) + begin * paddedColumns * floats] },
    ]),
  );
  return padded;
}

/** x [N, H, W, C] with its channels padded with zeros to a multiple of the SIMD width. */
function paddedInput(memory: WasmHeap, x: tf.TensorInfo): tf.TensorInfo {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  return padColumns(memory, x, [batch, height, width, paddedChannels(channels)], channels, paddedChannels(channels));
}

/** Byte offset of image `n` of a [N, H, W, C] tensor. */
function imageOffset(memory: WasmHeap, tensor: tf.TensorInfo, n: number): number {
  const [, height, width, channels] = tensor.shape as [number, number, number, number];
  return memory.byteOffsetOf(tensor) + n * height * width * channels * Float32Array.BYTES_PER_ELEMENT;
}

/**
 * y = conv(x, filter) (+ bias, then ReLU when asked) by Winograd F(4x4, 3x3), chunk by chunk.
 * Threads share a chunk's transforms by bands of tile rows, and its products by taking different
 * k of the 36 (each product reads its own transformed filter matrix, which for deep layers is
 * larger than the tiles: bands of tiles would each read all 36).
 */
export function winogradConvolution(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  convInfo: tf.backend_util.Conv2DInfo,
  bias: tf.TensorInfo | null,
  relu: boolean,
  options: WinogradOptions = {},
): tf.TensorInfo {
  const { inChannels, outChannels } = convInfo;
  if (inChannels % SIMD_WIDTH === 0) return convolve(backend, x, filter, convInfo, bias, relu, options);
  const memory = new WasmHeap(backend);
  const channels = paddedChannels(inChannels);
  const paddedX = paddedInput(memory, x);
  try {
    const paddedFilter = padColumns(memory, filter, [3, 3, channels, outChannels], inChannels * outChannels, channels * outChannels);
    try {
      return convolve(backend, paddedX, paddedFilter, { ...convInfo, inChannels: channels }, bias, relu, options);
    } finally {
      backend.disposeData(paddedFilter.dataId);
    }
  } finally {
    backend.disposeData(paddedX.dataId);
  }
}

function convolve(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  convInfo: tf.backend_util.Conv2DInfo,
  bias: tf.TensorInfo | null,
  relu: boolean,
  options: WinogradOptions,
): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, padInfo } = convInfo;
  const { tilesHigh, tilesWide, memory, threads, pieces, chunks, maxTiles } = tilePlan(backend, convInfo, options);
  const y = memory.allocate([batchSize, outHeight, outWidth, outChannels]);
  return withTemporaries(backend, y, (temporaries) => {
    const filters = matrixSets(memory, temporaries, 1, inChannels, outChannels);
    transformFilter(threads, memory.byteOffsetOf(filter), inChannels, outChannels, filters.table(0));
    const inputs = matrixSets(memory, temporaries, 1, maxTiles, inChannels);
    const products = matrixSets(memory, temporaries, 1, maxTiles, outChannels);
    const scratch = scratchAreas(memory, temporaries, pieces);
    const biasOffset = bias === null ? 0 : memory.byteOffsetOf(bias);
    for (const chunk of chunks) {
      withTemporaries(backend, null, (chunkTemporaries) => {
        const bands = chunkBands(chunk, pieces, tilesHigh, tilesWide);
        const tables = shiftedTables(memory, chunkTemporaries, 2 * bands.flat().length);
        let table = 0;
        threads.run(
          bands.map((band, piece) =>
            band.map(({ firstImage, images, rowBegin, rowEnd, firstRow }): SimdKernelCall => {
              const inputTables = tables(table++, inputs, (firstRow - chunk.firstRow) * tilesWide * inChannels);
              return { kernel: 'winogradInput', args: [imageOffset(memory, x, firstImage), images, inHeight, inWidth, inChannels, padInfo.top, padInfo.left, rowBegin, rowEnd, tilesWide, inputTables, scratch(piece)] };
            }),
          ),
        );
        threads.run(
          splitEvenly(TILE_VALUES, pieces).map(([kBegin, kEnd]) => [
            { kernel: 'winogradProducts', args: [inputs.table(0), filters.table(0), chunk.tiles, inChannels, outChannels, kBegin, kEnd, products.table(0)] },
          ]),
        );
        threads.run(
          bands.map((band, piece) =>
            band.map(({ firstImage, images, rowBegin, rowEnd, firstRow }): SimdKernelCall => {
              const productTables = tables(table++, products, (firstRow - chunk.firstRow) * tilesWide * outChannels);
              return { kernel: 'winogradOutput', args: [productTables, imageOffset(memory, y, firstImage), images, outHeight, outWidth, outChannels, rowBegin, rowEnd, tilesWide, biasOffset, relu ? 1 : 0, scratch(piece)] };
            }),
          ),
        );
      });
    }
  });
}

/** How a convolution's tiles are cut: into chunks that fit WINOGRAD_CHUNK_BYTES, each into `pieces` for the threads. */
function tilePlan(backend: tf.KernelBackend, convInfo: tf.backend_util.Conv2DInfo, options: WinogradOptions) {
  const tilesHigh = Math.ceil(convInfo.outHeight / 4);
  const tilesWide = Math.ceil(convInfo.outWidth / 4);
  const memory = new WasmHeap(backend);
  const threads = kernelThreadsFor(memory.memory());
  const pieces = options.pieces ?? threads.piecesFor(winogradWork(convInfo));
  const chunks = tileChunks(0, convInfo.batchSize * tilesHigh, tilesHigh, tilesWide, chunkRows(convInfo, options.chunkBytes ?? WINOGRAD_CHUNK_BYTES));
  return { tilesHigh, tilesWide, memory, threads, pieces, chunks, maxTiles: Math.max(...chunks.map((chunk) => chunk.tiles)) };
}

/**
 * A chunk's tile rows in `pieces` bands for the threads; a band that crosses images is cut into
 * chunks of its own, each writing its tiles where they lie in the chunk's matrices.
 */
function chunkBands(chunk: TileChunk, pieces: number, tilesHigh: number, tilesWide: number): TileChunk[][] {
  return splitEvenly(chunk.images * (chunk.rowEnd - chunk.rowBegin), pieces).map(([begin, end]) =>
    tileChunks(chunk.firstRow + begin, chunk.firstRow + end, tilesHigh, tilesWide, Infinity),
  );
}

/** The filter's 36 transformed matrices, the elements of each shared among the threads. */
function transformFilter(threads: KernelThreads, filter: number, inChannels: number, outChannels: number, tables: number): void {
  const blocks = (inChannels * outChannels) / 4;
  const ranges = splitEvenly(blocks, threads.piecesFor(TILE_VALUES * inChannels * outChannels));
  threads.run(ranges.map(([begin, end]) => [{ kernel: 'winogradFilter', args: [filter, inChannels, outChannels, 4 * begin, 4 * end, tables] }]));
}

/**
 * dW of the same convolution, by the same algorithm run backwards: with Y = A^T [U . V] A per tile
 * and U = G g G^T, dU = sum over tiles of (A dY A^T) . V and dW = G^T dU G. The sum over tiles is
 * 36 products V_k^T [Ci, tiles] x dM_k [tiles, Co], a quarter of the multiplies of one GEMM per
 * filter tap (conv2d-backprop-filter.ts), computed in the wasm module (see
 * winograd_f43_filter_products); chunks add to the same dU. Threads share each chunk's transforms
 * by bands of tile rows, then its products by taking different k, as winogradConvolution does, so
 * that no thread needs a dU of its own and the sums come out the same on any number of threads.
 */
export function winogradFilterGradient(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  convInfo: tf.backend_util.Conv2DInfo,
  options: WinogradOptions = {},
): tf.TensorInfo {
  const { inChannels, outChannels } = convInfo;
  if (inChannels % SIMD_WIDTH === 0) return filterGradient(backend, x, dy, convInfo, options);
  const memory = new WasmHeap(backend);
  const channels = paddedChannels(inChannels);
  const paddedX = paddedInput(memory, x);
  try {
    const paddedGradient = filterGradient(backend, paddedX, dy, { ...convInfo, inChannels: channels }, options);
    // Each tap's first inChannels rows of Co are the gradient; the rest belong to the padding.
    const dW = memory.allocate([3, 3, inChannels, outChannels]);
    kernelThreadsFor(memory.memory()).run([
      [{ kernel: 'copyRuns', args: [memory.byteOffsetOf(paddedGradient), channels * outChannels, memory.byteOffsetOf(dW), inChannels * outChannels, inChannels * outChannels, 9] }],
    ]);
    backend.disposeData(paddedGradient.dataId);
    return dW;
  } finally {
    backend.disposeData(paddedX.dataId);
  }
}

function filterGradient(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  convInfo: tf.backend_util.Conv2DInfo,
  options: WinogradOptions,
): tf.TensorInfo {
  const { inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, padInfo } = convInfo;
  const { tilesHigh, tilesWide, memory, threads, pieces, chunks, maxTiles } = tilePlan(backend, convInfo, options);
  const dW = memory.allocate([3, 3, inChannels, outChannels]);
  return withTemporaries(backend, dW, (temporaries) => {
    const inputs = matrixSets(memory, temporaries, 1, maxTiles, inChannels);
    const outputGradients = matrixSets(memory, temporaries, 1, maxTiles, outChannels);
    const products = matrixSets(memory, temporaries, 1, inChannels, outChannels);
    const scratch = scratchAreas(memory, temporaries, pieces);
    chunks.forEach((chunk, index) => {
      withTemporaries(backend, null, (chunkTemporaries) => {
        const bands = chunkBands(chunk, pieces, tilesHigh, tilesWide);
        const at = shiftedTables(memory, chunkTemporaries, 2 * bands.flat().length);
        let segment = 0;
        threads.run(
          bands.map((band, piece) =>
            band.flatMap(({ firstImage, images, rowBegin, rowEnd, firstRow }): SimdKernelCall[] => {
              const shift = (firstRow - chunk.firstRow) * tilesWide;
              const inputTables = at(segment++, inputs, shift * inChannels);
              const gradientTables = at(segment++, outputGradients, shift * outChannels);
              return [
                { kernel: 'winogradInput', args: [imageOffset(memory, x, firstImage), images, inHeight, inWidth, inChannels, padInfo.top, padInfo.left, rowBegin, rowEnd, tilesWide, inputTables, scratch(piece)] },
                { kernel: 'winogradOutputGradient', args: [imageOffset(memory, dy, firstImage), images, outHeight, outWidth, outChannels, rowBegin, rowEnd, tilesWide, gradientTables, scratch(piece)] },
              ];
            }),
          ),
        );
        threads.run(
          splitEvenly(TILE_VALUES, pieces).map(([kBegin, kEnd]) => [
            { kernel: 'winogradFilterProducts', args: [inputs.table(0), outputGradients.table(0), chunk.tiles, inChannels, outChannels, kBegin, kEnd, index > 0 ? 1 : 0, products.table(0)] },
          ]),
        );
      });
    });
    const blocks = (inChannels * outChannels) / 4;
    threads.run(
      splitEvenly(blocks, threads.piecesFor(TILE_VALUES * inChannels * outChannels)).map(([begin, end]) => [
        { kernel: 'winogradFilterGradient', args: [products.table(0), inChannels, outChannels, 4 * begin, 4 * end, memory.byteOffsetOf(dW)] },
      ]),
    );
  });
}

/**
 * `count` sets of 36 matrices [rows, columns] in one buffer, and a table of their byte offsets
 * (36 per set) that the wasm functions take. The matrices lie 16 floats apart beyond their size:
 * matrices of a power-of-two size placed back to back put the 36 rows a transform writes at once
 * in the same cache sets, and the transforms ran twice as slow.
 */
interface MatrixSets {
  /** Byte offset of set `set`'s table. */
  table(set: number): number;
  /** Byte offset of matrix k of set `set`. */
  matrix(set: number, k: number): number;
}

function matrixSets(memory: WasmHeap, temporaries: Temporaries, count: number, rows: number, columns: number): MatrixSets {
  const stride = (rows * columns + 16) * Float32Array.BYTES_PER_ELEMENT;
  const buffer = memory.byteOffsetOf(temporaries.tensor(memory.allocate([(count * TILE_VALUES * stride) / Float32Array.BYTES_PER_ELEMENT])));
  const table = memory.byteOffsetOf(temporaries.tensor(memory.allocate([count * TILE_VALUES], 'int32')));
  const matrix = (set: number, k: number) => buffer + (set * TILE_VALUES + k) * stride;
  const heap = memory.int32Heap();
  for (let set = 0; set < count; set++) {
    for (let k = 0; k < TILE_VALUES; k++) heap[table / Int32Array.BYTES_PER_ELEMENT + set * TILE_VALUES + k] = matrix(set, k);
  }
  return { table: (set) => table + set * TILE_VALUES * Int32Array.BYTES_PER_ELEMENT, matrix };
}

/**
 * Room for `count` tables, each listing set 0 of some MatrixSets from `shift` floats into every
 * matrix: what a call that fills rows further down the matrices takes. Returns a function that
 * writes table `index` and gives its byte offset.
 */
function shiftedTables(memory: WasmHeap, temporaries: Temporaries, count: number): (index: number, sets: MatrixSets, shift: number) => number {
  const tables = memory.byteOffsetOf(temporaries.tensor(memory.allocate([count * TILE_VALUES], 'int32')));
  return (index, sets, shift) => {
    const heap = memory.int32Heap();
    const start = tables + index * TILE_VALUES * Int32Array.BYTES_PER_ELEMENT;
    for (let k = 0; k < TILE_VALUES; k++) heap[start / Int32Array.BYTES_PER_ELEMENT + k] = sets.matrix(0, k) + shift * Float32Array.BYTES_PER_ELEMENT;
    return start;
  };
}

/** Working memory for the transforms, one area per thread; returns thread i's byte offset. */
function scratchAreas(memory: WasmHeap, temporaries: Temporaries, count: number): (thread: number) => number {
  const start = memory.byteOffsetOf(temporaries.tensor(memory.allocate([count * WINOGRAD_SCRATCH_FLOATS])));
  return (thread) => start + thread * WINOGRAD_SCRATCH_FLOATS * Float32Array.BYTES_PER_ELEMENT;
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
