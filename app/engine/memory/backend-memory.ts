import os from 'node:os';
import { WASM_STEP_MEMORY, type StepMemoryModel } from './step-memory.js';

/** How much memory a backend's training may plan for, and how its steps use memory. */
export interface BackendMemory {
  /** Bytes a step's estimate must stay under; null when the backend cannot tell. */
  limitBytes: number | null;
  /** Where the limit comes from, for the run's record ("the wasm heap: ..."). */
  limitReason: string;
  /** Bytes no one tensor may pass (a GPU's largest buffer); absent where only the total counts. */
  largestTensorBytes?: number;
  model: StepMemoryModel;
  /** Whether `model` was measured on this backend or borrowed from the wasm one. */
  measured: boolean;
}

/** A 32-bit WebAssembly memory: tfjs-backend-wasm lets its heap grow to 4 GiB, whatever the machine has. */
const WASM_HEAP_BYTES = 4 * 2 ** 30;
/**
 * Share of a memory a plan may fill. Measured at 512x512, batch 4, base 16: the heap grew 6.5%
 * past the live tensors' peak (allocator fragmentation); the rest is room for the estimate's error
 * and for the validation pass.
 */
const PLANNABLE_SHARE = 0.8;

/** A backend's memory for one of `replicas` data-parallel replicas (each has a heap of its own). */
type MemoryProvider = (replicas: number) => BackendMemory;

const providers = new Map<string, MemoryProvider>([
  ['wasm', (replicas) => {
    const machineShare = (os.totalmem() * 0.75) / replicas;
    const heap = Math.min(WASM_HEAP_BYTES, machineShare);
    const ofMachine = replicas > 1 ? `3/4 of this machine's memory shared by ${replicas} replicas` : "3/4 of this machine's memory";
    return {
      limitBytes: heap * PLANNABLE_SHARE,
      limitReason:
        heap < WASM_HEAP_BYTES
          ? `${Math.round(PLANNABLE_SHARE * 100)}% of ${formatGiB(heap)}, ${ofMachine}`
          : `${Math.round(PLANNABLE_SHARE * 100)}% of the ${formatGiB(heap)} a 32-bit WebAssembly heap can hold`,
      model: WASM_STEP_MEMORY,
      measured: true,
    };
  }],
  ['tfjs-node', () => ({
    limitBytes: os.totalmem() * 0.5 * PLANNABLE_SHARE,
    limitReason: `${Math.round(PLANNABLE_SHARE * 100)}% of half this machine's ${formatGiB(os.totalmem())} of memory`,
    model: WASM_STEP_MEMORY,
    measured: false,
  })],
  ['tfjs-node-gpu', () => ({
    limitBytes: null,
    limitReason: 'tfjs-node-gpu does not report the GPU\'s memory, so batches run as asked',
    model: WASM_STEP_MEMORY,
    measured: false,
  })],
]);

/**
 * Lets a backend tell the planner its memory (a GPU backend: what its device can hold, from its
 * adapter's limits). A backend without one runs its batches as asked.
 */
export function registerBackendMemory(backend: string, provider: MemoryProvider): void {
  providers.set(backend, provider);
}

export function backendMemory(backend: string, replicas = 1): BackendMemory {
  return providers.get(backend)?.(replicas) ?? { limitBytes: null, limitReason: `${backend} does not report its memory, so batches run as asked`, model: WASM_STEP_MEMORY, measured: false };
}

export function formatGiB(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}
