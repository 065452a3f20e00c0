import * as tf from '@tensorflow/tfjs';

import { runWasmKernel, transposeOnWasm } from './wasm-kernel-calls.js';

/**
 * A faster Conv2DBackpropInput (dx of a convolution; also the forward pass of a transposed
 * convolution) for the wasm backend, whose own kernel runs about 10x slower than its Conv2D.
 * Two shapes cover a U-Net and are rewritten onto fast kernels; every other shape goes to the
 * backend's original kernel:
 * - stride 1: dx is a convolution of dy with the filter turned 180° and its channels swapped;
 * - kernel = stride, no padding (2x2/2 up-sampling): every input pixel feeds its own output
 *   block, so dx = dy . W^T (one MatMul) followed by DepthToSpace.
 */
export function conv2dBackpropInputConfig(original: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropInput,
    backendName: 'wasm',
    // The original's setup binds its wasm function, which the fallback path still calls.
    ...(original.setupFunc ? { setupFunc: original.setupFunc } : {}),
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
      if (dataFormat === 'NHWC') {
        const convInfo = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode);
        const kernelBackend = backend as tf.KernelBackend;
        if (convInfo.strideHeight === 1 && convInfo.strideWidth === 1) {
          const result = stridelessAsConvolution(kernelBackend, dy, filter, convInfo);
          if (result) return result;
        }
        if (isBlockUpsampling(convInfo)) return blockUpsampling(kernelBackend, dy, filter, convInfo);
      }
      return original.kernelFunc(args);
    },
  };
}

function stridelessAsConvolution(backend: tf.KernelBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  const { filterHeight, filterWidth, inHeight, inWidth, outHeight, outWidth, padInfo } = convInfo;
  const top = filterHeight - 1 - padInfo.top;
  const left = filterWidth - 1 - padInfo.left;
  const bottom = inHeight - outHeight - top + filterHeight - 1;
  const right = inWidth - outWidth - left + filterWidth - 1;
  if (Math.min(top, left, bottom, right) < 0) return null;
  const turned = runWasmKernel(tf.Reverse, backend, { x: filter }, { dims: [0, 1] });
  const swapped = transposeOnWasm(backend, turned, [0, 1, 3, 2]);
  const dx = runWasmKernel(
    tf.Conv2D,
    backend,
    { x: dy, filter: swapped },
    { strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1] },
  );
  for (const intermediate of [turned, swapped]) backend.disposeData(intermediate.dataId);
  return dx;
}

function isBlockUpsampling(convInfo: tf.backend_util.Conv2DInfo): boolean {
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo, inHeight, inWidth, outHeight, outWidth } = convInfo;
  return (
    filterHeight === strideHeight &&
    filterWidth === strideWidth &&
    filterHeight === filterWidth &&
    padInfo.top === 0 &&
    padInfo.left === 0 &&
    inHeight === outHeight * strideHeight &&
    inWidth === outWidth * strideWidth
  );
}

/** dx[n, i*s+a, j*s+b, ci] = sum over co of dy[n, i, j, co] * W[a, b, ci, co]. */
function blockUpsampling(backend: tf.KernelBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, convInfo: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize, outHeight, outWidth, outChannels, inChannels, filterHeight } = convInfo;
  const block = filterHeight * filterHeight * inChannels;
  const pixels = batchSize * outHeight * outWidth;
  const dy3d = runWasmKernel(tf.Reshape, backend, { x: dy }, { shape: [1, pixels, outChannels] });
  const filter3d = runWasmKernel(tf.Reshape, backend, { x: filter }, { shape: [1, block, outChannels] });
  const blocks = runWasmKernel(tf.BatchMatMul, backend, { a: dy3d, b: filter3d }, { transposeA: false, transposeB: true });
  const blocks4d = runWasmKernel(tf.Reshape, backend, { x: blocks }, { shape: [batchSize, outHeight, outWidth, block] });
  const dx = runWasmKernel(tf.DepthToSpace, backend, { x: blocks4d }, { blockSize: filterHeight, dataFormat: 'NHWC' });
  for (const intermediate of [dy3d, filter3d, blocks, blocks4d]) backend.disposeData(intermediate.dataId);
  return dx;
}
