import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import { registerWasmTrainingKernels } from '../app/engine/backend/wasm-kernels/index.js';
import type { BenchResult } from './bench-result.js';

interface ConvCase {
  name: string;
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  stride: number;
}

/** Filter-gradient shapes of a batch-4 U-Net, including its 2x2 stride-2 up-convolution. */
const CASES: ConvCase[] = [
  { name: '128x128x16->16 3x3', xShape: [4, 128, 128, 16], filterShape: [3, 3, 16, 16], stride: 1 },
  { name: '64x64x32->32 3x3', xShape: [4, 64, 64, 32], filterShape: [3, 3, 32, 32], stride: 1 },
  { name: '8x8x256->256 3x3', xShape: [4, 8, 8, 256], filterShape: [3, 3, 256, 256], stride: 1 },
  { name: 'up-conv 64x64x16->32 2x2 s2', xShape: [4, 64, 64, 16], filterShape: [2, 2, 16, 32], stride: 2 },
  { name: 'head 128x128x16->2 1x1', xShape: [4, 128, 128, 16], filterShape: [1, 1, 16, 2], stride: 1 },
];

/** The alternative the kernel was measured against: im2col patches, then one MatMul. */
function im2colFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, convCase: ConvCase): tf.Tensor {
  const { filterShape, stride } = convCase;
  const info = tf.backend_util.computeConv2DInfo(convCase.xShape, filterShape, stride, 1, 'same');
  const { top, bottom, left, right } = info.padInfo;
  const padded = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  const patches: tf.Tensor[] = [];
  for (let kh = 0; kh < filterShape[0]; kh++)
    for (let kw = 0; kw < filterShape[1]; kw++)
      patches.push(
        tf.stridedSlice(
          padded,
          [0, kh, kw, 0],
          [x.shape[0], kh + (info.outHeight - 1) * stride + 1, kw + (info.outWidth - 1) * stride + 1, x.shape[3]],
          [1, stride, stride, 1],
        ),
      );
  const rows = x.shape[0] * info.outHeight * info.outWidth;
  const columns = tf.concat(patches, 3).reshape([rows, -1]);
  return tf.matMul(columns, dy.reshape([rows, filterShape[3]]), true, false).reshape(filterShape);
}

function medianMs(run: () => tf.Tensor, repeats = 7): number {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    // The braces matter: tidy() walks a returned typed array element by element.
    tf.tidy(() => {
      run().dataSync();
    });
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(repeats / 2)]!;
}

/** Times the wasm Conv2DBackpropFilter kernel against im2col + MatMul and the forward conv. */
export async function benchConvGrad(): Promise<BenchResult> {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  const figures: BenchResult['figures'] = {};
  let kernelAlwaysFaster = true;
  for (const convCase of CASES) {
    const [x, dy, filter] = tf.tidy(() => {
      const info = tf.backend_util.computeConv2DInfo(convCase.xShape, convCase.filterShape, convCase.stride, 1, 'same');
      return [
        tf.randomNormal(convCase.xShape) as tf.Tensor4D,
        tf.randomNormal(info.outShape) as tf.Tensor4D,
        tf.randomNormal(convCase.filterShape) as tf.Tensor4D,
      ];
    });
    const attrs = { strides: convCase.stride, pad: 'same', dataFormat: 'NHWC', filterShape: convCase.filterShape };
    const kernelMs = medianMs(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor);
    const im2colMs = medianMs(() => im2colFilterGradient(x, dy, convCase));
    figures[`${convCase.name} dW kernel ms`] = Number(kernelMs.toFixed(1));
    figures[`${convCase.name} dW im2col ms`] = Number(im2colMs.toFixed(1));
    figures[`${convCase.name} forward conv ms`] = Number(medianMs(() => tf.conv2d(x, filter, convCase.stride, 'same')).toFixed(1));
    kernelAlwaysFaster &&= kernelMs <= im2colMs;
    tf.dispose([x, dy, filter]);
  }
  return { name: 'conv-grad', figures, goals: { kernelFasterThanIm2col: kernelAlwaysFaster } };
}
