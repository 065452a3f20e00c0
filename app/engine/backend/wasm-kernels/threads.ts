import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

import { installNodePthreadShim } from './node-pthread-shim.js';
import { startKernelThreads } from './kernel-threads.js';
import { WasmHeap } from './wasm-heap.js';

export interface WasmThreadsConfiguration {
  threads: number;
  reason: string;
}

// tfjs-backend-wasm's backend.cc pre-spawns 8 pthread workers and caps XNNPACK's pool at
// min(requested, 8, logical cores / 2), assuming two hyper-threads a core.
const MAX_XNNPACK_THREADS = 8;

let configured: WasmThreadsConfiguration | null = null;

/** The logical cores training may use: all of them unless asked for fewer. */
export function defaultTrainingThreads(): number {
  return os.availableParallelism();
}

/**
 * Initialises the wasm backend on `requested` threads (at most the logical cores): the
 * multi-threaded build, whose heap is a shared memory, with our SIMD kernels on that many threads
 * (kernel-threads.ts) and XNNPACK's own pool beside them. Stock tfjs always uses the
 * single-threaded build in Node; this starts the multi-threaded one through the Node worker shim.
 * The thread count is fixed once the backend runs.
 */
export async function initialiseWasmBackend(requested: number): Promise<WasmThreadsConfiguration | string> {
  if (tf.engine().registry['wasm'] !== undefined) {
    return (
      configured ?? {
        threads: getThreadsCount(),
        reason: `${getThreadsCount()} thread(s): the wasm backend was already initialised, so its thread count can no longer change`,
      }
    );
  }
  const logicalCores = os.availableParallelism();
  const threads = Math.min(Math.max(1, Math.floor(requested)), logicalCores);
  const unsupported = threads > 1 ? installNodePthreadShim() : null;
  if (threads <= 1 || unsupported !== null) {
    setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) return 'the WebAssembly backend failed to initialise';
    const why = unsupported ?? (requested <= 1 ? `${requested} requested` : `this machine has ${logicalCores} logical core`);
    configured = { threads: 1, reason: `1 thread: ${why}` };
    return configured;
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(Math.min(threads, MAX_XNNPACK_THREADS));
  if (!(await tf.setBackend('wasm'))) return 'the WebAssembly backend failed to initialise';
  await startKernelThreads(new WasmHeap(tf.backend()).memory(), threads);
  configured = {
    threads,
    reason:
      `${threads} threads (${threads === requested ? 'as requested' : `${requested} requested, ${logicalCores} logical cores`}): ` +
      `U-Net Studio's SIMD kernels on ${threads} threads over the shared wasm heap, XNNPACK's on ${getThreadsCount()}`,
  };
  return configured;
}

