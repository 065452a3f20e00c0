import * as tf from '@tensorflow/tfjs';

import type { KernelReplacement } from '../kernel-registration.js';

/**
 * Identity that shares its input's memory (reference-counted, as the cpu backend's does and the
 * wasm backend's own Reshape does) instead of copying it. The engine clones every tensor it saves
 * for the backward pass through this kernel, several hundred per U-Net training step; wasm data is
 * never modified in place, so sharing is safe.
 */
export const sharedIdentityReplacement: KernelReplacement = {
  kernelName: tf.Identity,
  replace: (original) => ({
    ...original,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype === 'string') return original.kernelFunc(args);
      (args.backend as tf.KernelBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  }),
};
