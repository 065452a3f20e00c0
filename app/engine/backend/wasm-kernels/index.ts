import type * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import { installKernels, type KernelReplacement } from '../kernel-registration.js';
import { batchNormTrainingBackwardConfig, batchNormTrainingForwardConfig } from './batch-norm-training.js';
import { concatReplacement, splitVReplacement } from './concat-and-split.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputReplacement } from './conv2d-backprop-input.js';
import { meanReplacement, sumReplacement } from './leading-axes-reduction.js';
import { maxPoolGradReplacement } from './max-pool-grad.js';
import { sharedIdentityReplacement } from './shared-identity.js';
import { winogradConv2DReplacement, winogradFusedConv2DReplacement } from './winograd-conv2d.js';

/**
 * Kernels tfjs-backend-wasm 4.22 lacks for training a U-Net (found by running
 * forward + backward passes of conv/batch-norm/pool/transposed-conv/upsampling
 * models with every optimizer we offer, falling back to the cpu kernel for any
 * missing one and logging which were hit: only Conv2DBackpropFilter was).
 */
const missingKernels: tf.KernelConfig[] = [conv2dBackpropFilterConfig];

/** Kernels of our own that tfjs has no counterpart of (used where the wasm backend runs). */
const ownKernels: tf.KernelConfig[] = [batchNormTrainingForwardConfig, batchNormTrainingBackwardConfig];

/**
 * Kernels wasm has but that dominated a profiled U-Net training step; each replacement handles
 * the shapes a U-Net uses and hands the rest to the original.
 */
const replacements: KernelReplacement[] = [
  winogradConv2DReplacement,
  winogradFusedConv2DReplacement,
  conv2dBackpropInputReplacement,
  sumReplacement,
  meanReplacement,
  maxPoolGradReplacement,
  concatReplacement,
  splitVReplacement,
  sharedIdentityReplacement,
];

/**
 * Registers the missing training kernels and the faster replacements for the wasm backend.
 * Idempotent (see installKernels). Returns the names registered by this call.
 */
export function registerWasmTrainingKernels(): string[] {
  return installKernels('wasm', [...missingKernels, ...ownKernels], replacements);
}
