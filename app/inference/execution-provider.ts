import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { AppError } from '../contract/errors.js';
import type { ExecutionProviderName, ProviderReport } from '../contract/segmentation.js';

interface Candidate {
  name: ExecutionProviderName;
  /** Why this provider is not even worth trying here, or null. */
  unavailable(): string | null;
}

/**
 * onnxruntime-node's installer downloads the CUDA provider library beside its binding only when asked
 * (ONNXRUNTIME_NODE_INSTALL=cuda12); without it a CUDA session cannot open, so it is not tried.
 */
function cudaProviderInstalled(): boolean {
  const binding = path.join(path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(path.join(binding, 'libonnxruntime_providers_cuda.so'));
}

const CANDIDATES: readonly Candidate[] = [
  {
    name: 'cuda',
    unavailable: () =>
      process.platform !== 'linux'
        ? 'CUDA is used on Linux only'
        : cudaProviderInstalled()
          ? null
          : 'onnxruntime-node was installed without its CUDA binaries (reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm install)',
  },
  { name: 'dml', unavailable: () => (process.platform === 'win32' ? null : 'DirectML is used on Windows only') },
  { name: 'coreml', unavailable: () => (process.platform === 'darwin' ? null : 'CoreML is used on macOS only') },
  { name: 'cpu', unavailable: () => null },
];

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: ProviderReport;
}

/**
 * Opens an ONNX model on the best execution provider this machine has: CUDA (Linux, when its binaries
 * were installed), DirectML (Windows), CoreML (macOS), else the CPU. A provider is used only when a
 * session really opens with it; every provider passed over is reported with its reason, so inference
 * never falls back to the CPU silently.
 */
export async function openSession(model: string | Uint8Array, choice: ExecutionProviderName | 'auto' = 'auto'): Promise<OpenedSession> {
  const skipped: ProviderReport['skipped'] = [];
  const order = choice === 'auto' ? CANDIDATES : CANDIDATES.filter((candidate) => candidate.name === choice);
  let lastError: unknown = null;
  for (const candidate of order) {
    const problem = candidate.unavailable();
    if (problem) {
      skipped.push({ name: candidate.name, reason: problem });
      continue;
    }
    try {
      const session = await createSession(model, candidate.name);
      const reason = choice !== 'auto' ? 'chosen explicitly' : skipped.length && candidate.name === 'cpu' ? 'no accelerator available' : 'best provider available';
      return { session, provider: { name: candidate.name, reason, skipped } };
    } catch (err) {
      lastError = err;
      skipped.push({ name: candidate.name, reason: `session failed to open: ${firstLine(err)}` });
    }
  }
  const source = typeof model === 'string' ? model : 'the model';
  throw new AppError('invalid_input', `${source}: onnxruntime cannot open this model (${firstLine(lastError)}).`, { skipped });
}

/** `intraOpThreads`: threads for one run (null: onnxruntime's default, one per core). */
export function createSession(model: string | Uint8Array, provider: ExecutionProviderName, intraOpThreads: number | null = null): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(intraOpThreads === null ? {} : { intraOpNumThreads: intraOpThreads }),
  };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
}
