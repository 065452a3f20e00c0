import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

import { installNodePthreadShim } from './node-pthread-shim.js';

export interface WasmThreadsConfiguration {
  threads: number;
  reason: string;
}

// tfjs-backend-wasm's backend.cc pre-spawns 8 pthread workers and caps XNNPACK's
// pool at min(requested, 8, logical cores / 2), assuming two hyper-threads a core.
const MAX_WASM_THREADS = 8;

/**
 * Chooses how many threads the wasm backend's XNNPACK kernels use. Must run
 * before the wasm backend initialises. Stock tfjs always uses the
 * single-threaded build in Node; with more than one thread available this
 * switches to the multi-threaded build through the Node worker shim.
 */
export function configureWasmThreads(requested: number): WasmThreadsConfiguration {
  if (tf.engine().registry['wasm'] !== undefined) {
    return {
      threads: getThreadsCount(),
      reason: `${getThreadsCount()} thread(s): the wasm backend was already initialised, so its thread count can no longer change`,
    };
  }
  const logicalCores = os.cpus().length;
  const threads = Math.min(Math.max(1, Math.floor(requested)), MAX_WASM_THREADS, Math.floor(logicalCores / 2));
  if (threads <= 1) {
    setThreadsCount(1);
    const why =
      requested <= 1
        ? `${requested} requested`
        : `the wasm backend caps its threads at half the logical cores (at most ${MAX_WASM_THREADS}) and this machine has ${logicalCores}`;
    return { threads: 1, reason: `1 thread: ${why}` };
  }
  const unsupported = installNodePthreadShim();
  if (unsupported !== null) {
    setThreadsCount(1);
    return { threads: 1, reason: `1 thread: ${unsupported}` };
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  return {
    threads,
    reason:
      `${threads} threads: multi-threaded SIMD wasm build, XNNPACK pool on Node worker_threads ` +
      `(min of ${requested} requested, ${MAX_WASM_THREADS} max, half of ${logicalCores} logical cores)`,
  };
}
