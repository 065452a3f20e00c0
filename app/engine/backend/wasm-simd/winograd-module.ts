import { winogradF43Wasm } from './winograd-f43-binary.js';

/**
 * The Winograd F(4x4, 3x3) transforms of winograd-f43.c, instantiated on tfjs-backend-wasm's own
 * heap so that they read and write tensors in place. Every pointer is a byte offset into that heap.
 */
export interface WinogradF43 {
  /** filter [3, 3, Ci, Co] -> 36 matrices [Ci, Co], whose offsets are listed at `tables`. */
  filter(filter: number, inChannels: number, outChannels: number, tables: number): void;
  /** x [N, H, W, C] -> 36 matrices [tiles, C], whose offsets are listed at `tables`. */
  input(x: number, batch: number, height: number, width: number, channels: number, padTop: number, padLeft: number, tilesHigh: number, tilesWide: number, tables: number, scratch: number): void;
  /** 36 matrices [tiles, C] listed at `tables` -> y [N, H, W, C], plus bias (0: none), ReLU if `relu`. */
  output(tables: number, y: number, batch: number, height: number, width: number, channels: number, tilesHigh: number, tilesWide: number, bias: number, relu: number, scratch: number): void;
}

/** Floats of working memory the input and output transforms need at `scratch`: 36 vectors of 4. */
export const WINOGRAD_SCRATCH_FLOATS = 36 * 4;

const compiled = new Map<'plain' | 'shared', WebAssembly.Module>();

/** Instantiates the transforms on `memory`, the heap of the wasm backend that will call them. */
export function instantiateWinogradF43(memory: WebAssembly.Memory): WinogradF43 {
  const kind = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer ? 'shared' : 'plain';
  let module = compiled.get(kind);
  if (module === undefined) {
    module = new WebAssembly.Module(Buffer.from(winogradF43Wasm[kind], 'base64'));
    compiled.set(kind, module);
  }
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  return {
    filter: exports['winograd_f43_filter'] as WinogradF43['filter'],
    input: exports['winograd_f43_input'] as WinogradF43['input'],
    output: exports['winograd_f43_output'] as WinogradF43['output'],
  };
}
