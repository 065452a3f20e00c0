import type * as tf from '@tensorflow/tfjs';

/**
 * A faster version of a kernel the wasm backend already has. `replace` receives the original so
 * that the shapes the replacement does not handle can still go to it.
 */
export interface KernelReplacement {
  kernelName: string;
  replace(original: tf.KernelConfig): tf.KernelConfig;
}
