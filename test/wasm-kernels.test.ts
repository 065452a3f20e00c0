import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import { registerWasmTrainingKernels } from '../app/engine/backend/wasm-kernels/index.js';
import { assertClose, seededValues } from './support/seeded-values.js';

type Shape4 = [number, number, number, number];
type Padding = tf.Conv2DBackpropFilterAttrs['pad'];

/** dW by the definition: every filter tap times every output position. */
function naiveFilterGradient(
  x: Float32Array,
  xShape: Shape4,
  dy: Float32Array,
  convInfo: tf.backend_util.Conv2DInfo,
): Float32Array {
  const [batch, height, width, inChannels] = xShape;
  const { filterHeight, filterWidth, outHeight, outWidth, outChannels, strideHeight, strideWidth, padInfo } = convInfo;
  const dW = new Float32Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let kh = 0; kh < filterHeight; kh++)
    for (let kw = 0; kw < filterWidth; kw++)
      for (let ci = 0; ci < inChannels; ci++)
        for (let co = 0; co < outChannels; co++) {
          let sum = 0;
          for (let n = 0; n < batch; n++)
            for (let oh = 0; oh < outHeight; oh++) {
              const row = oh * strideHeight + kh - padInfo.top;
              if (row < 0 || row >= height) continue;
              for (let ow = 0; ow < outWidth; ow++) {
                const col = ow * strideWidth + kw - padInfo.left;
                if (col < 0 || col >= width) continue;
                sum +=
                  x[((n * height + row) * width + col) * inChannels + ci]! *
                  dy[((n * outHeight + oh) * outWidth + ow) * outChannels + co]!;
              }
            }
          dW[((kh * filterWidth + kw) * inChannels + ci) * outChannels + co] = sum;
        }
  return dW;
}

async function filterGradientOn(
  backendName: 'wasm' | 'cpu',
  x: Float32Array,
  dy: Float32Array,
  convInfo: tf.backend_util.Conv2DInfo,
  attrs: tf.Conv2DBackpropFilterAttrs,
): Promise<Float32Array> {
  await tf.setBackend(backendName);
  const xTensor = tf.tensor4d(x, convInfo.inShape);
  const dyTensor = tf.tensor4d(dy, convInfo.outShape);
  const dW = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xTensor, dy: dyTensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  const values = (await dW.data()) as Float32Array;
  tf.dispose([xTensor, dyTensor, dW]);
  return values;
}

before(async () => {
  registerWasmTrainingKernels();
  assert.ok(await tf.setBackend('wasm'));
});

describe('registerWasmTrainingKernels', () => {
  it('is idempotent and leaves the kernels registered', () => {
    assert.deepEqual(registerWasmTrainingKernels(), []);
    assert.ok(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm'));
  });
});

describe('wasm Conv2DBackpropFilter', () => {
  // IS_TEST makes the engine fail any kernel that leaves data ids behind.
  before(() => tf.env().set('IS_TEST', true));
  after(() => tf.env().set('IS_TEST', false));

  const paddings: Padding[] = ['same', 'valid', 1, [[0, 0], [1, 0], [0, 2], [0, 0]]];
  let seed = 1;
  const cases: { stride: number; kernelSize: number; pad: Padding; size: [number, number, number, number, number] }[] = [];
  for (const stride of [1, 2])
    for (const kernelSize of [1, 2, 3])
      for (const pad of paddings) {
        cases.push({ stride, kernelSize, pad, size: [1 + (seed % 3), 5 + ((seed * 7) % 6), 4 + ((seed * 5) % 7), 1 + ((seed * 3) % 4), 1 + ((seed * 11) % 5)] });
        seed++;
      }
  // Stride-1 'same' on images of 32 and more take the padded channel planes.
  for (const [kernelSize, outChannels] of [[3, 5], [2, 3], [5, 2], [1, 12]] as const) {
    cases.push({ stride: 1, kernelSize, pad: 'same', size: [2, 34, 32 + kernelSize, 3, outChannels] });
  }
  for (const [caseIndex, { stride, kernelSize, pad, size }] of cases.entries()) {
    const [batch, height, width, inChannels, outChannels] = size;
    const caseSeed = caseIndex + 1;
    const label = `x ${batch}x${height}x${width}x${inChannels}, ${kernelSize}x${kernelSize}->${outChannels}, stride ${stride}, pad ${JSON.stringify(pad)}`;
    it(`matches a naive loop and the cpu backend: ${label}`, async () => {
      const xShape: Shape4 = [batch, height, width, inChannels];
      const filterShape: Shape4 = [kernelSize, kernelSize, inChannels, outChannels];
      const convInfo = tf.backend_util.computeConv2DInfo(xShape, filterShape, stride, 1, pad);
      const attrs: tf.Conv2DBackpropFilterAttrs = { strides: stride, pad, dataFormat: 'NHWC', filterShape };
      const x = seededValues(tf.util.sizeFromShape(xShape), caseSeed);
      const dy = seededValues(tf.util.sizeFromShape(convInfo.outShape), caseSeed + 1000);
      const onWasm = await filterGradientOn('wasm', x, dy, convInfo, attrs);
      const onCpu = await filterGradientOn('cpu', x, dy, convInfo, attrs);
      await tf.setBackend('wasm');
      assertClose(onWasm, naiveFilterGradient(x, xShape, dy, convInfo), 'vs naive loop');
      assertClose(onWasm, onCpu, 'vs cpu backend');
    });
  }

  it('gives the filter gradients of conv2d, fused conv2d and conv2dTranspose that the cpu backend gives', async () => {
    const gradients = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(seededValues(2 * 8 * 8 * 3, 7), [2, 8, 8, 3]);
        const filter = tf.tensor4d(seededValues(3 * 3 * 3 * 4, 8), [3, 3, 3, 4]);
        const bias = tf.tensor1d(seededValues(4, 9));
        const upFilter = tf.tensor4d(seededValues(2 * 2 * 5 * 3, 10), [2, 2, 5, 3]);
        const [dConv] = tf.grads((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, 1, 'same').square().sum())([filter]);
        const [dFused, dBias] = tf.grads((f: tf.Tensor, b: tf.Tensor) =>
          tf.fused.conv2d({ x, filter: f as tf.Tensor4D, bias: b, strides: 1, pad: 'same', activation: 'relu' }).square().sum(),
        )([filter, bias]);
        const [dTransposed] = tf.grads((f: tf.Tensor) =>
          tf.conv2dTranspose(x, f as tf.Tensor4D, [2, 16, 16, 5], 2, 'same').square().sum(),
        )([upFilter]);
        return [dConv!, dFused!, dBias!, dTransposed!].map((g) => g.dataSync() as Float32Array);
      });
    const onWasm = gradients();
    await tf.setBackend('cpu');
    const onCpu = gradients();
    await tf.setBackend('wasm');
    onWasm.forEach((values, i) => assertClose(values, onCpu[i]!, `gradient ${i}`));
  });
});

/** A two-level U-Net with every layer type the trainer uses. */
function tinyUNet(): tf.LayersModel {
  const convBlock = (input: tf.SymbolicTensor, filters: number) => {
    const conv = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false }).apply(input);
    const normalised = tf.layers.batchNormalization().apply(conv);
    return tf.layers.activation({ activation: 'relu' }).apply(normalised) as tf.SymbolicTensor;
  };
  const input = tf.input({ shape: [16, 16, 1] });
  const encoded = convBlock(input, 4);
  const pooled = tf.layers.maxPooling2d({ poolSize: 2 }).apply(encoded) as tf.SymbolicTensor;
  const bottom = convBlock(pooled, 8);
  const upConv = tf.layers.conv2dTranspose({ filters: 4, kernelSize: 2, strides: 2, padding: 'same' }).apply(bottom);
  const upBilinear = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }).apply(bottom);
  const merged = tf.layers.concatenate().apply([upConv, upBilinear, encoded] as tf.SymbolicTensor[]) as tf.SymbolicTensor;
  const decoded = convBlock(merged, 4);
  const output = tf.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid' }).apply(decoded);
  return tf.model({ inputs: input, outputs: output as tf.SymbolicTensor });
}

describe('training on wasm', () => {
  it('runs Adam steps whose loss decreases without leaking tensors', () => {
    const model = tinyUNet();
    const images = tf.tensor4d(seededValues(2 * 16 * 16, 42), [2, 16, 16, 1]);
    const masks = tf.tidy(() => images.greater(0).cast('float32'));
    const optimizer = tf.train.adam(0.05);
    const step = () =>
      tf.tidy(() => {
        const loss = optimizer.minimize(() => {
          const predicted = model.apply(images, { training: true }) as tf.Tensor;
          return tf.losses.logLoss(masks, predicted) as tf.Scalar;
        }, true)!;
        return loss.dataSync()[0]!;
      });
    const losses: number[] = [];
    let afterStep2 = { numTensors: 0, numBytes: 0 };
    for (let i = 1; i <= 10; i++) {
      losses.push(step());
      if (i === 2) afterStep2 = { numTensors: tf.memory().numTensors, numBytes: tf.memory().numBytes };
    }
    assert.ok(losses.every(Number.isFinite), `losses: ${losses}`);
    assert.ok(losses[9]! < losses[0]!, `loss did not decrease: ${losses}`);
    assert.deepEqual({ numTensors: tf.memory().numTensors, numBytes: tf.memory().numBytes }, afterStep2);
    tf.dispose([images, masks]);
    model.dispose();
    optimizer.dispose();
  });
});

describe('initialiseWasmBackend', () => {
  const logicalCores = os.availableParallelism();
  const threadsModule = fileURLToPath(new URL('../app/engine/backend/wasm-kernels/threads.js', import.meta.url));
  const indexModule = fileURLToPath(new URL('../app/engine/backend/wasm-kernels/index.js', import.meta.url));
  const poolModule = fileURLToPath(new URL('../app/engine/backend/wasm-kernels/kernel-threads.js', import.meta.url));
  const heapModule = fileURLToPath(new URL('../app/engine/backend/wasm-kernels/wasm-heap.js', import.meta.url));
  // A fresh process per thread count: threads are fixed when the backend starts.
  const trainWithThreads = async (requested: number) => {
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
      const { initialiseWasmBackend } = await import(${JSON.stringify(threadsModule)});
      const { registerWasmTrainingKernels } = await import(${JSON.stringify(indexModule)});
      const { kernelThreadsFor } = await import(${JSON.stringify(poolModule)});
      const { WasmHeap } = await import(${JSON.stringify(heapModule)});
      registerWasmTrainingKernels();
      const configured = await initialiseWasmBackend(${requested});
      const values = (n, s) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s));
      const x = tf.tensor4d(values(4 * 64 * 64 * 8, 0.37), [4, 64, 64, 8]);
      const filter = tf.tensor4d(values(3 * 3 * 8 * 8, 0.11), [3, 3, 8, 8]);
      const [dFilter] = tf.grads((f) => tf.conv2d(x, f, 1, 'same').square().sum())([filter]);
      const kernelThreads = kernelThreadsFor(new WasmHeap(tf.backend()).memory()).count;
      console.log(JSON.stringify({ configured, xnnpack: getThreadsCount(), kernelThreads, dFilter: Array.from(dFilter.dataSync()) }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      timeout: 60_000,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      configured: { threads: number; reason: string };
      xnnpack: number;
      kernelThreads: number;
      dFilter: number[];
    };
  };

  it('runs its kernels on the threads asked for, up to every logical core (XNNPACK on its own share), with the same gradients', async () => {
    const single = await trainWithThreads(1);
    assert.deepEqual([single.configured.threads, single.xnnpack, single.kernelThreads], [1, 1, 1]);
    assert.match(single.configured.reason, /^1 thread: 1 requested/);
    const all = await trainWithThreads(logicalCores + 3);
    // tfjs gives XNNPACK at most half the logical cores (and 8), assuming two hyper-threads a core.
    const xnnpack = Math.max(1, Math.min(8, Math.floor(logicalCores / 2)));
    assert.deepEqual([all.configured.threads, all.kernelThreads, all.xnnpack], [logicalCores, logicalCores, xnnpack], all.configured.reason);
    if (logicalCores > 1) assert.match(all.configured.reason, new RegExp(`^${logicalCores} threads \\(${logicalCores + 3} requested, ${logicalCores} logical cores\\)`));
    assertClose(Float32Array.from(all.dFilter), Float32Array.from(single.dFilter), 'threaded vs single');
  });
});
