import * as tf from '@tensorflow/tfjs';

/**
 * A better version of a kernel a backend already has. `replace` receives the original so that the
 * shapes (or sizes) the replacement does not handle can still go to it.
 */
export interface KernelReplacement {
  kernelName: string;
  replace(original: tf.KernelConfig): tf.KernelConfig;
}

/** Our replacement configs, so that installing twice does not wrap a replacement in another. */
const installed = new WeakSet<tf.KernelConfig>();

/**
 * Registers kernels a backend lacks (`added`) and wraps the ones it has (`replacements`), for one
 * backend. Idempotent: kernels already present (ours from an earlier call, or native ones in a
 * future tfjs) are left alone. Returns the names registered by this call.
 */
export function installKernels(backendName: string, added: readonly tf.KernelConfig[], replacements: readonly KernelReplacement[]): string[] {
  const registered: string[] = [];
  for (const config of added) {
    if (tf.getKernel(config.kernelName, backendName) !== undefined) continue;
    tf.registerKernel(config);
    registered.push(config.kernelName);
  }
  for (const { kernelName, replace } of replacements) {
    const original = tf.getKernel(kernelName, backendName);
    if (original === undefined || installed.has(original)) continue;
    const better = replace(original);
    installed.add(better);
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel(better);
    registered.push(kernelName);
  }
  return registered;
}
