import type * as tf from '@tensorflow/tfjs';

interface AllocatingModule {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

/**
 * Measures the most tensor memory the wasm backend holds at once while `work` runs: every
 * tensor's memory goes through the module's `_malloc` and `_free` (tfjs-backend-wasm allocates
 * from JavaScript), so wrapping them for the duration counts live bytes exactly. Memory XNNPACK
 * takes inside the module for itself is not counted (a few MB). Used to fit and check the
 * memory planner's estimates.
 */
export function measureHeapPeak<Result>(backend: tf.KernelBackend, work: () => Result): { result: Result; peakBytes: number } {
  const module = (backend as unknown as { wasm: AllocatingModule }).wasm;
  // Emscripten's exports replace themselves with the raw function on first call; take that one.
  module._free(module._malloc(4));
  const { _malloc: malloc, _free: free } = module;
  const sizes = new Map<number, number>();
  let live = 0;
  let peak = 0;
  module._malloc = (bytes) => {
    const pointer = malloc(bytes);
    sizes.set(pointer >>> 0, bytes);
    live += bytes;
    peak = Math.max(peak, live);
    return pointer;
  };
  module._free = (pointer) => {
    live -= sizes.get(pointer >>> 0) ?? 0;
    sizes.delete(pointer >>> 0);
    free(pointer);
  };
  try {
    return { result: work(), peakBytes: peak };
  } finally {
    module._malloc = malloc;
    module._free = free;
  }
}
