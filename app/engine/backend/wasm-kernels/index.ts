import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';

/**
 * Kernels tfjs-backend-wasm 4.22 lacks for training a U-Net (found by running
 * forward + backward passes of conv/batch-norm/pool/transposed-conv/upsampling
 * models with every optimizer we offer, falling back to the cpu kernel for any
 * missing one and logging which were hit: only Conv2DBackpropFilter was).
 */
const trainingKernels: tf.KernelConfig[] = [conv2dBackpropFilterConfig];

/**
 * Registers the missing training kernels for the wasm backend. Idempotent:
 * kernels already present (ours from an earlier call, or native ones in a
 * future tfjs) are left alone. Returns the names registered by this call.
 */
export function registerWasmTrainingKernels(): string[] {
  const registered: string[] = [];
  for (const config of trainingKernels) {
    if (tf.getKernel(config.kernelName, 'wasm') !== undefined) continue;
    tf.registerKernel(config);
    registered.push(config.kernelName);
  }
  if (replaceSlowBackpropInput()) registered.push(tf.Conv2DBackpropInput);
  return registered;
}

/** Kernels wasm has but runs slowly, replaced by faster ones built on its fast kernels. */
const replaced = new WeakSet<tf.KernelConfig>();

function replaceSlowBackpropInput(): boolean {
  const original = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
  if (original === undefined || replaced.has(original)) return false;
  const faster = conv2dBackpropInputConfig(original);
  replaced.add(faster);
  tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
  tf.registerKernel(faster);
  return true;
}
