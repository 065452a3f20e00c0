import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../contract/errors.js';
import type { BackendChoice, BackendName, BackendReport } from '../../contract/training.js';
import { registerWasmTrainingKernels } from './wasm-kernels/index.js';
import { defaultTrainingThreads, initialiseWasmBackend } from './wasm-kernels/threads.js';

/** What a rung adds to the report when it loads (its threads, its GPU). */
type BackendDetails = Pick<BackendReport, 'threads' | 'threadsReason' | 'adapter'>;

interface LoadContext {
  threads: number;
  /** Chosen by name rather than by `auto`: a software GPU is then used too. */
  forced: boolean;
}

interface Candidate {
  name: BackendName;
  /** False where tensors can only be read with `await tensor.data()` (webgpu in Node). */
  syncReads: boolean;
  /** Loads the backend; returns why it cannot be used, or what to report when it is ready. */
  load(context: LoadContext): Promise<{ problem: string } | { details: BackendDetails }>;
}

/** What tfjs-node-gpu needs; told to users whenever it cannot load. */
const GPU_REQUIREMENTS = 'tfjs-node-gpu needs CUDA 11.2 and cuDNN 8.1 (Linux or Windows)';

const CANDIDATES: readonly Candidate[] = [
  {
    name: 'tfjs-node-gpu',
    syncReads: true,
    async load() {
      const failure = await importPackage('@tensorflow/tfjs-node-gpu');
      if (failure) return { problem: failure.includes('not installed') ? failure : `${failure}: ${GPU_REQUIREMENTS}` };
      await tf.setBackend('tensorflow');
      // Without a usable CUDA device tfjs-node-gpu quietly runs on the CPU; say so instead.
      const usingGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
      return usingGpu ? { details: {} } : { problem: `loaded, but TensorFlow found no CUDA GPU (${GPU_REQUIREMENTS})` };
    },
  },
  {
    name: 'webgpu',
    syncReads: false,
    async load({ forced }) {
      const { requestDawnAdapter, softwareAdapterReason } = await import('./webgpu/dawn-adapter.js');
      const dawn = await requestDawnAdapter();
      if ('problem' in dawn) return dawn;
      if (dawn.report.software && !forced) return { problem: softwareAdapterReason(dawn.report) };
      const { startWebgpuBackend } = await import('./webgpu/webgpu-backend.js');
      return (await startWebgpuBackend(dawn)) ? { details: { adapter: dawn.report } } : { problem: 'the WebGPU backend failed to initialise' };
    },
  },
  {
    name: 'tfjs-node',
    syncReads: true,
    async load() {
      const failure = await importPackage('@tensorflow/tfjs-node');
      if (failure) return { problem: failure };
      await tf.setBackend('tensorflow');
      return { details: {} };
    },
  },
  {
    name: 'wasm',
    syncReads: true,
    async load({ threads }) {
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmTrainingKernels();
      const started = await initialiseWasmBackend(threads);
      if (typeof started === 'string') return { problem: started };
      return { details: { threads: started.threads, threadsReason: started.reason } };
    },
  },
];

export interface BackendNeeds {
  /** The caller reads tensors with dataSync (the ONNX exporter): rungs that cannot are skipped. */
  syncReads?: boolean;
  threads?: number;
}

let chosen: { report: BackendReport; syncReads: boolean } | null = null;

/**
 * Picks the tfjs backend once per process: `auto` walks tfjs-node-gpu -> webgpu -> tfjs-node ->
 * wasm and records why each one was skipped, so no run ever falls back to the CPU silently.
 * webgpu is taken by `auto` only on a hardware adapter; a software one is used only when chosen.
 */
export async function initialiseBackend(choice: BackendChoice, needs: BackendNeeds = {}): Promise<BackendReport> {
  if (chosen) {
    if (choice !== 'auto' && choice !== chosen.report.name) {
      throw new AppError('conflict', `This process already runs on ${chosen.report.name}; it cannot switch to ${choice}.`);
    }
    if (needs.syncReads && !chosen.syncReads) {
      throw new AppError('conflict', `This process runs on ${chosen.report.name}, which cannot read tensors synchronously.`);
    }
    return chosen.report;
  }
  const skipped: BackendReport['skipped'] = [];
  const forced = choice !== 'auto';
  const order = forced ? CANDIDATES.filter((candidate) => candidate.name === choice) : CANDIDATES;
  for (const candidate of order) {
    if (needs.syncReads && !candidate.syncReads) {
      skipped.push({ name: candidate.name, reason: 'this task reads tensors synchronously, which WebGPU in Node cannot' });
      continue;
    }
    const context = { threads: needs.threads ?? defaultTrainingThreads(), forced };
    const outcome = await candidate.load(context).catch((err: unknown) => ({ problem: err instanceof Error ? err.message : String(err) }));
    if ('details' in outcome) {
      await tf.ready();
      const reason = forced ? 'chosen with --backend' : skipped.length ? 'first backend that loaded' : 'best backend available';
      chosen = { report: { name: candidate.name, reason, skipped, ...outcome.details }, syncReads: candidate.syncReads };
      return chosen.report;
    }
    skipped.push({ name: candidate.name, reason: outcome.problem });
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
