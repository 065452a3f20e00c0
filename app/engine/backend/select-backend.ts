import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../contract/errors.js';
import type { BackendChoice, BackendName, BackendReport } from '../../contract/training.js';
import { registerWasmTrainingKernels } from './wasm-kernels/index.js';
import { defaultTrainingThreads, initialiseWasmBackend } from './wasm-kernels/threads.js';

interface Candidate {
  name: BackendName;
  /** Loads the backend; returns why it cannot be used, or null when it is ready. */
  load(threads: number): Promise<string | null>;
}

let wasmThreads: { threads: number; reason: string } | null = null;

/** What tfjs-node-gpu needs; told to users whenever it cannot load. */
const GPU_REQUIREMENTS = 'tfjs-node-gpu needs CUDA 11.2 and cuDNN 8.1 (Linux or Windows)';

const CANDIDATES: readonly Candidate[] = [
  {
    name: 'tfjs-node-gpu',
    async load() {
      const failure = await importPackage('@tensorflow/tfjs-node-gpu');
      if (failure) return failure.includes('not installed') ? failure : `${failure}: ${GPU_REQUIREMENTS}`;
      await tf.setBackend('tensorflow');
      // Without a usable CUDA device tfjs-node-gpu quietly runs on the CPU; say so instead.
      const usingGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
      return usingGpu ? null : `loaded, but TensorFlow found no CUDA GPU (${GPU_REQUIREMENTS})`;
    },
  },
  {
    name: 'tfjs-node',
    async load() {
      const failure = await importPackage('@tensorflow/tfjs-node');
      if (failure) return failure;
      await tf.setBackend('tensorflow');
      return null;
    },
  },
  {
    name: 'wasm',
    async load(threads) {
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmTrainingKernels();
      const started = await initialiseWasmBackend(threads);
      if (typeof started === 'string') return started;
      wasmThreads = started;
      return null;
    },
  },
];

let chosen: BackendReport | null = null;

/**
 * Picks the training backend once per process: `auto` walks tfjs-node-gpu -> tfjs-node -> wasm and
 * records why each one was skipped, so no run ever falls back to the CPU silently.
 */
export async function initialiseBackend(choice: BackendChoice, requestedThreads = defaultTrainingThreads()): Promise<BackendReport> {
  if (chosen) {
    if (choice !== 'auto' && choice !== chosen.name) {
      throw new AppError('conflict', `This process already runs on ${chosen.name}; it cannot switch to ${choice}.`);
    }
    return chosen;
  }
  const skipped: BackendReport['skipped'] = [];
  const order = choice === 'auto' ? CANDIDATES : CANDIDATES.filter((candidate) => candidate.name === choice);
  for (const candidate of order) {
    const problem = await candidate.load(requestedThreads).catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    if (problem === null) {
      await tf.ready();
      const reason = choice === 'auto' ? (skipped.length ? 'first backend that loaded' : 'best backend available') : 'chosen with --backend';
      chosen = {
        name: candidate.name,
        reason,
        skipped,
        ...(candidate.name === 'wasm' && wasmThreads ? { threads: wasmThreads.threads, threadsReason: wasmThreads.reason } : {}),
      };
      return chosen;
    }
    skipped.push({ name: candidate.name, reason: problem });
  }
  throw new AppError('internal', `No training backend could be loaded: ${skipped.map((entry) => `${entry.name}: ${entry.reason}`).join('; ')}`);
}

async function importPackage(name: string): Promise<string | null> {
  try {
    await import(name);
    return null;
  } catch (err) {
    const error = err as NodeJS.ErrnoException;
    if (error.code === 'ERR_MODULE_NOT_FOUND' || error.code === 'MODULE_NOT_FOUND') {
      if (String(error.message).includes(name)) return `not installed (npm install ${name})`;
    }
    const missingLibrary = /(lib[\w.+-]+\.so[\w.]*|[\w-]+\.dll)/.exec(String(error.message));
    return missingLibrary ? `${missingLibrary[1]} not found` : String(error.message).split('\n')[0]!;
  }
}
