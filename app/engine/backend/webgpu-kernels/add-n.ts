import type * as tf from '@tensorflow/tfjs';
import type { KernelReplacement } from '../kernel-registration.js';

/** The parts of tfjs-backend-webgpu's backend this kernel uses. */
interface WebgpuBackendParts {
  device: GPUDevice;
  disposeData(dataId: object): boolean;
}

/**
 * tfjs-backend-webgpu's AddN binds every input as a storage buffer of one shader, and a device
 * allows only maxStorageBuffersPerShaderStage of them per shader (8 unless raised): clipping a
 * U-Net's ~60 gradients to their global norm sums ~60 tensors, the pipeline fails validation and
 * the sum reads back as zeros. This sums groups that fit, then the partial sums, with the same kernel.
 */
export const addNReplacement: KernelReplacement = {
  kernelName: 'AddN',
  replace: (original) => ({
    ...original,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const parts = backend as unknown as WebgpuBackendParts;
      // One binding of the shader is its output.
      const perPass = parts.device.limits.maxStorageBuffersPerShaderStage - 1;
      const sum = (terms: tf.TensorInfo[]) => original.kernelFunc({ inputs: terms as unknown as tf.NamedTensorInfoMap, backend, attrs }) as tf.TensorInfo;
      let terms = Object.values(inputs) as tf.TensorInfo[];
      const partials: tf.TensorInfo[] = [];
      while (terms.length > perPass) {
        const next: tf.TensorInfo[] = [];
        for (let start = 0; start < terms.length; start += perPass) {
          const group = terms.slice(start, start + perPass);
          if (group.length === 1) {
            next.push(group[0]!);
            continue;
          }
          const partial = sum(group);
          partials.push(partial);
          next.push(partial);
        }
        terms = next;
      }
      const result = sum(terms);
      // Released once the queued passes that read them have been submitted.
      for (const partial of partials) parts.disposeData(partial.dataId);
      return result;
    },
  }),
};
