/// <reference path="./webassembly.d.ts" />
import { simdKernelsWasm } from './simd-kernels-binary.js';

/**
 * The kernels of this folder's C sources, instantiated on tfjs-backend-wasm's own heap so that
 * they read and write tensors in place. Every pointer is a byte offset into that heap. Each
 * function that passes over a tensor takes a range of it (images, tile rows, pixels, elements), so
 * that threads can share the work (../wasm-kernels/kernel-threads.ts); see the C for the details.
 */
export interface SimdKernels {
  /** winograd-f43.c: filter [3, 3, Ci, Co] -> 36 matrices [Ci, Co] listed at `tables`, elements [blockBegin, blockEnd) of each. */
  winogradFilter(filter: number, inChannels: number, outChannels: number, blockBegin: number, blockEnd: number, tables: number): void;
  /** x [N, H, W, C] -> 36 matrices [tiles, C], listed at `tables`: `batch` images from `x`, tile rows [tileRowBegin, tileRowEnd) of each. */
  winogradInput(x: number, batch: number, height: number, width: number, channels: number, padTop: number, padLeft: number, tileRowBegin: number, tileRowEnd: number, tilesWide: number, tables: number, scratch: number): void;
  /** dy [N, H, W, C] -> 36 matrices [tiles, C] (A dY A^T per tile), listed at `tables`. */
  winogradOutputGradient(dy: number, batch: number, height: number, width: number, channels: number, tileRowBegin: number, tileRowEnd: number, tilesWide: number, tables: number, scratch: number): void;
  /** M_k = V_k U_k for k in [kBegin, kEnd) of the 36 [tiles, Ci] matrices V and [Ci, Co] matrices U listed at their tables. */
  winogradProducts(inputTables: number, filterTables: number, tiles: number, inChannels: number, outChannels: number, kBegin: number, kEnd: number, productTables: number): void;
  /** dU_k (+= when `accumulate`) V_k^T dM_k for k in [kBegin, kEnd) of the 36 [tiles, Ci] matrices V and [tiles, Co] matrices dM listed at their tables. */
  winogradFilterProducts(inputTables: number, outputGradientTables: number, tiles: number, inChannels: number, outChannels: number, kBegin: number, kEnd: number, accumulate: number, productTables: number): void;
  /** 36 matrices [Ci, Co] listed at `tables` -> dW [3, 3, Ci, Co] (G^T dU G), elements [blockBegin, blockEnd) of each tap. */
  winogradFilterGradient(tables: number, inChannels: number, outChannels: number, blockBegin: number, blockEnd: number, filterGradient: number): void;
  /** 36 matrices [tiles, C] listed at `tables` -> y [N, H, W, C], plus bias (0: none), ReLU if `relu`. */
  winogradOutput(tables: number, y: number, batch: number, height: number, width: number, channels: number, tileRowBegin: number, tileRowEnd: number, tilesWide: number, bias: number, relu: number, scratch: number): void;
  /** batch-norm.c: sums of x and x^2 over a band of `pixels` -> `sums` (2C doubles). */
  batchNormSums(x: number, pixels: number, channels: number, sums: number): void;
  /** `sets` sums (one after another) -> mean, variance, inverseStd and scale (C floats each) over all `pixels`. */
  batchNormStatistics(sums: number, sets: number, pixels: number, channels: number, gamma: number, epsilon: number, mean: number, variance: number, inverseStd: number, scale: number): void;
  /** y = (x - mean) * scale + beta over a band of `pixels`. */
  batchNormApply(x: number, y: number, pixels: number, channels: number, mean: number, scale: number, beta: number): void;
  /** sums of dy and dy * (x - mean) over a band of `pixels` -> `sums` (2C doubles). */
  batchNormGradientSums(dy: number, x: number, pixels: number, channels: number, mean: number, sums: number): void;
  /** `sets` sums -> dgamma, dbeta and the 3C `coefficients` of dx over all `pixels`. */
  batchNormGradientCoefficients(sums: number, sets: number, pixels: number, channels: number, inverseStd: number, gamma: number, dgamma: number, dbeta: number, coefficients: number): void;
  /** dx from dy and x over a band of `pixels`. */
  batchNormGradientApply(dy: number, x: number, pixels: number, channels: number, mean: number, coefficients: number, dx: number): void;
  /** channel-planes.c: NHWC -> zero-padded channel planes, images [imageBegin, imageEnd). */
  paddedChannelPlanes(x: number, height: number, width: number, channels: number, padTop: number, padLeft: number, paddedHeight: number, paddedWidth: number, planeStride: number, imageBegin: number, imageEnd: number, planes: number): void;
  /** pooling-gradient.c: dx of max pooling with non-overlapping windows, images [imageBegin, imageEnd). */
  windowMaximumGradient(x: number, dy: number, dx: number, height: number, width: number, channels: number, outHeight: number, outWidth: number, windowHeight: number, windowWidth: number, imageBegin: number, imageEnd: number): void;
  /** turned-filter.c: turned[tap][co][ci] = filter[taps - 1 - tap][ci][co] for taps [tapBegin, tapEnd). */
  turnedFilter(filter: number, taps: number, inChannels: number, outChannels: number, tapBegin: number, tapEnd: number, turned: number): void;
  /** strided-copy.c: `count` runs of `run` floats from `from` (runs `fromStride` floats apart) to `to` (`toStride` apart). */
  copyRuns(from: number, fromStride: number, to: number, toStride: number, run: number, count: number): void;
  /** x [rows, columns] -> padded [rows, paddedColumns], zeros in the extra columns. */
  padColumns(x: number, rows: number, columns: number, paddedColumns: number, padded: number): void;
}

export type SimdKernelName = keyof SimdKernels;

/** One call of a kernel, as threads pass it to each other. */
export type SimdKernelCall = { [Name in SimdKernelName]: { kernel: Name; args: Parameters<SimdKernels[Name]> } }[SimdKernelName];

/** The C function behind each kernel. The order numbers the kernels between threads. */
const EXPORT_NAMES: Record<SimdKernelName, string> = {
  winogradFilter: 'winograd_f43_filter',
  winogradInput: 'winograd_f43_input',
  winogradOutputGradient: 'winograd_f43_output_gradient',
  winogradProducts: 'winograd_f43_products',
  winogradFilterProducts: 'winograd_f43_filter_products',
  winogradFilterGradient: 'winograd_f43_filter_gradient',
  winogradOutput: 'winograd_f43_output',
  batchNormSums: 'batch_norm_sums',
  batchNormStatistics: 'batch_norm_statistics',
  batchNormApply: 'batch_norm_apply',
  batchNormGradientSums: 'batch_norm_gradient_sums',
  batchNormGradientCoefficients: 'batch_norm_gradient_coefficients',
  batchNormGradientApply: 'batch_norm_gradient_apply',
  paddedChannelPlanes: 'padded_channel_planes',
  windowMaximumGradient: 'window_maximum_gradient',
  turnedFilter: 'turned_filter',
  copyRuns: 'copy_runs',
  padColumns: 'pad_columns',
};

export const SIMD_KERNEL_NAMES = Object.keys(EXPORT_NAMES) as SimdKernelName[];

/** Floats of working memory the Winograd input and output transforms need at `scratch`. */
export const WINOGRAD_SCRATCH_FLOATS = 36 * 4;

/** Runs one call on `kernels`. */
export function runSimdKernelCall(kernels: SimdKernels, call: SimdKernelCall): void {
  (kernels[call.kernel] as (...args: number[]) => void)(...call.args);
}

const compiled = new Map<'plain' | 'shared', WebAssembly.Module>();
const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

/** The kernels working on `memory`, the heap of the wasm backend that calls them (one instance per thread). */
export function simdKernelsFor(memory: WebAssembly.Memory): SimdKernels {
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    kernels = instantiate(memory);
    instances.set(memory, kernels);
  }
  return kernels;
}

function instantiate(memory: WebAssembly.Memory): SimdKernels {
  const kind = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer ? 'shared' : 'plain';
  let module = compiled.get(kind);
  if (module === undefined) {
    module = new WebAssembly.Module(Buffer.from(simdKernelsWasm[kind], 'base64'));
    compiled.set(kind, module);
  }
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  const missing = SIMD_KERNEL_NAMES.filter((name) => typeof exports[EXPORT_NAMES[name]] !== 'function');
  if (missing.length) throw new Error(`simd-kernels-binary.ts lacks ${missing.map((name) => EXPORT_NAMES[name]).join(', ')}: rebuild it with npm run build:wasm-simd.`);
  return Object.fromEntries(SIMD_KERNEL_NAMES.map((name) => [name, exports[EXPORT_NAMES[name]]])) as unknown as SimdKernels;
}
