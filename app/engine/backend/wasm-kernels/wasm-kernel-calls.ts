import * as tf from '@tensorflow/tfjs';

/**
 * Runs one of the wasm backend's own kernels directly on the backend.
 *
 * Calling the kernel function (rather than a `tf.*` op) keeps the work off the
 * engine: nothing is recorded on the gradient tape and no engine tensors are
 * created, so the caller owns the returned TensorInfo and must release it with
 * `backend.disposeData(result.dataId)` unless it becomes the kernel's output.
 */
export function runWasmKernel(
  kernelName: string,
  backend: tf.KernelBackend,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const kernel = tf.getKernel(kernelName, 'wasm');
  if (kernel === undefined) {
    throw new Error(`The wasm backend has no '${kernelName}' kernel to build on.`);
  }
  return kernel.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
}

/** Transposes `x` with the wasm Transpose kernel. */
export function transposeOnWasm(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  perm: number[],
): tf.TensorInfo {
  return runWasmKernel(tf.Transpose, backend, { x }, { perm });
}
