import os from 'node:os';
import type { BackendName, ModelConfig } from '../../contract/training.js';
import { unetFootprint } from '../memory/unet-footprint.js';

/**
 * Forward-pass multiply-adds per second one training thread sustains (a training step does about
 * three times the forward pass's work). wasm: from `npm run bench -- train-speed` (base 16,
 * 128x128: 9.2 images/s on one thread, 7 G/s), taken lower because base 8 and small tensors use
 * the kernels less well. The others are not measured here and are rough (webgpu: a mid-range GPU;
 * `auto` takes it only on a hardware adapter).
 */
const FORWARD_MULTIPLY_ADDS_PER_SECOND: Record<BackendName, number> = {
  wasm: 5e9,
  'tfjs-node': 10e9,
  webgpu: 50e9,
  'tfjs-node-gpu': 300e9,
};

/** Threads the backend will use here: the CPU backends train on every logical core by default. */
function backendThreads(backend: BackendName): number {
  return backend === 'wasm' || backend === 'tfjs-node' ? os.availableParallelism() : 1;
}

/**
 * Seconds one image of `pixels` pixels costs in training (forward and backward) or in inference,
 * on `backend` at the threads it will use. An estimate to plan epochs; a time budget corrects the
 * plan from the first epoch's measured time.
 */
export function secondsPerImage(config: ModelConfig, pixels: number, backend: BackendName, pass: 'train' | 'inference'): number {
  const threads = backendThreads(backend);
  const rate = FORWARD_MULTIPLY_ADDS_PER_SECOND[backend] * (threads === 1 ? 1 : 0.8 * threads);
  return (unetFootprint(config).multiplyAddsPerPixel * pixels * (pass === 'train' ? 3 : 1)) / rate;
}
