import '@tensorflow/tfjs-backend-webgpu';

import { installKernels, type KernelReplacement } from '../kernel-registration.js';
import { addNReplacement } from './add-n.js';

/**
 * Kernels of tfjs-backend-webgpu 4.22 that fail a U-Net's training step. Found by running the
 * training steps of every model variant, loss and optimiser we offer on webgpu and on the cpu
 * backend (test/webgpu-gradients.test.ts keeps that comparison per kernel): every kernel used
 * exists, and all but AddN match the cpu backend.
 */
const replacements: KernelReplacement[] = [addNReplacement];

/** Registers our fixes for the webgpu backend (idempotent). Returns the names registered by this call. */
export function registerWebgpuTrainingKernels(): string[] {
  return installKernels('webgpu', [], replacements);
}
