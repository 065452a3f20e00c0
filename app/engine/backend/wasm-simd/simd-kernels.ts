/// <reference path="./webassembly.d.ts" />
import { simdKernelsWasm } from './simd-kernels-binary.js';

/**
 * The kernels of this folder's C sources (winograd-f43.c, batch-norm.c, channel-planes.c), instantiated on
 * tfjs-backend-wasm's own heap so that they read and write tensors in place. Every pointer is a
 * byte offset into that heap.
 */
export interface SimdKernels {
  winogradF43: WinogradF43;
  batchNorm: BatchNormKernels;
  /** NHWC -> zero-padded channel planes; see channel-planes.c. */
  paddedChannelPlanes(x: number, batch: number, height: number, width: number, channels: number, padTop: number, padLeft: number, paddedHeight: number, paddedWidth: number, planeStride: number, slack: number, planes: number): void;
}

/**
 * Winograd F(4x4, 3x3) transforms; see winograd-f43.c. Each works on a chunk: `batch` images from
 * the pointer given, tile rows [tileRowBegin, tileRowEnd) of each.
 */
export interface WinogradF43 {
  /** filter [3, 3, Ci, Co] -> 36 matrices [Ci, Co], whose offsets are listed at `tables`. */
  filter(filter: number, inChannels: number, outChannels: number, tables: number): void;
  /** x [N, H, W, C] -> 36 matrices [tiles, C], whose offsets are listed at `tables`. */
  input(x: number, batch: number, height: number, width: number, channels: number, padTop: number, padLeft: number, tileRowBegin: number, tileRowEnd: number, tilesWide: number, tables: number, scratch: number): void;
  /** dy [N, H, W, C] -> 36 matrices [tiles, C] (A dY A^T per tile), listed at `tables`. */
  outputGradient(dy: number, batch: number, height: number, width: number, channels: number, tileRowBegin: number, tileRowEnd: number, tilesWide: number, tables: number, scratch: number): void;
  /** M_k = V_k U_k for the 36 [tiles, Ci] matrices V and [Ci, Co] matrices U listed at their tables. */
  products(inputTables: number, filterTables: number, tiles: number, inChannels: number, outChannels: number, productTables: number): void;
  /** dU_k = V_k^T dM_k for the 36 [tiles, Ci] matrices V and [tiles, Co] matrices dM listed at their tables. */
  filterProducts(inputTables: number, outputGradientTables: number, tiles: number, inChannels: number, outChannels: number, productTables: number): void;
  /** 36 matrices [Ci, Co] listed at `tables` -> dW [3, 3, Ci, Co] (G^T dU G). */
  filterGradient(tables: number, inChannels: number, outChannels: number, filterGradient: number): void;
  /** 36 matrices [tiles, C] listed at `tables` -> y [N, H, W, C], plus bias (0: none), ReLU if `relu`. */
  output(tables: number, y: number, batch: number, height: number, width: number, channels: number, tileRowBegin: number, tileRowEnd: number, tilesWide: number, bias: number, relu: number, scratch: number): void;
}

/** Floats of working memory the Winograd input and output transforms need at `scratch`. */
export const WINOGRAD_SCRATCH_FLOATS = 36 * 4;

/** Training-mode batch normalisation over channels; see batch-norm.c. */
export interface BatchNormKernels {
  /** `sums`: 2C doubles (4C floats); `scale`: C floats. */
  forward(x: number, y: number, pixels: number, channels: number, gamma: number, beta: number, epsilon: number, mean: number, variance: number, inverseStd: number, sums: number, scale: number): void;
  /** `sums`: 2C doubles (4C floats); `coefficients`: 3C floats. */
  backward(dy: number, x: number, pixels: number, channels: number, mean: number, inverseStd: number, gamma: number, dx: number, dgamma: number, dbeta: number, sums: number, coefficients: number): void;
}

const compiled = new Map<'plain' | 'shared', WebAssembly.Module>();
const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

/** The kernels working on `memory`, the heap of the wasm backend that calls them. */
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
  return {
    winogradF43: {
      filter: exports['winograd_f43_filter'] as WinogradF43['filter'],
      input: exports['winograd_f43_input'] as WinogradF43['input'],
      output: exports['winograd_f43_output'] as WinogradF43['output'],
      outputGradient: exports['winograd_f43_output_gradient'] as WinogradF43['outputGradient'],
      filterGradient: exports['winograd_f43_filter_gradient'] as WinogradF43['filterGradient'],
      products: exports['winograd_f43_products'] as WinogradF43['products'],
      filterProducts: exports['winograd_f43_filter_products'] as WinogradF43['filterProducts'],
    },
    batchNorm: {
      forward: exports['batch_norm_forward'] as BatchNormKernels['forward'],
      backward: exports['batch_norm_backward'] as BatchNormKernels['backward'],
    },
    paddedChannelPlanes: exports['padded_channel_planes'] as SimdKernels['paddedChannelPlanes'],
  };
}
