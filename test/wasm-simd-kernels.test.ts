import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';

import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { batchNormInTraining } from '../app/engine/model/batch-norm-in-training.js';
import { suitsWinograd, winogradConvolution, winogradFilterGradient } from '../app/engine/backend/wasm-kernels/winograd-conv2d.js';
import { WasmHeap } from '../app/engine/backend/wasm-kernels/wasm-heap.js';
import { simdKernelsFor } from '../app/engine/backend/wasm-simd/simd-kernels.js';
import { createRandom } from '../app/random/prng.js';

before(async () => {
  await initialiseBackend('wasm');
});

after(() => {
  tf.setBackend('wasm');
});

function values(count: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => random.range(-1, 1));
}

type Shape4 = [number, number, number, number];

interface ConvolutionCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
  bias?: boolean;
  relu?: boolean;
}

/** A convolution's output on a backend; fused (bias, ReLU) when the case asks. */
function convolveOn(backend: 'wasm' | 'cpu', { x, filter, pad, bias, relu }: ConvolutionCase): Float32Array {
  tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const input = tf.tensor4d(values(tf.util.sizeFromShape(x), 1), x);
      const weights = tf.tensor4d(values(tf.util.sizeFromShape(filter), 2), filter);
      const result = tf.fused.conv2d({
        x: input,
        filter: weights,
        strides: 1,
        pad,
        bias: bias ? tf.tensor1d(values(filter[3], 3)) : undefined,
        activation: relu ? 'relu' : 'linear',
      });
      return result.dataSync() as Float32Array;
    });
  } finally {
    tf.setBackend('wasm');
  }
}

/** Winograd F(4x4, 3x3) rounds differently from a direct sum; its error grows with the values. */
function assertClose(actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  const magnitude = Math.max(1, ...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  assert.ok(worst <= 1e-4 * magnitude, `max abs error ${worst} for values up to ${magnitude}`);
}

function takesWinogradPath({ x, filter, pad }: ConvolutionCase): boolean {
  const convInfo = tf.backend_util.computeConv2DInfo(x, filter, 1, 1, pad);
  return suitsWinograd({ dataId: {}, shape: x, dtype: 'float32' }, convInfo);
}

describe('Winograd 3x3 convolutions on wasm', () => {
  const winogradCases: ConvolutionCase[] = [
    { name: "'same', output not a whole number of 4x4 tiles", x: [2, 30, 26, 16], filter: [3, 3, 16, 16], pad: 'same' },
    { name: "'valid'", x: [1, 35, 34, 16], filter: [3, 3, 16, 20], pad: 'valid' },
    { name: 'fused with bias and ReLU', x: [2, 32, 32, 8], filter: [3, 3, 8, 32], pad: 'same', bias: true, relu: true },
    { name: 'fused with bias, no activation', x: [1, 64, 40, 12], filter: [3, 3, 12, 24], pad: 'same', bias: true },
    { name: 'uneven explicit padding of up to 2', x: [2, 21, 19, 8], filter: [3, 3, 8, 12], pad: [[0, 0], [2, 0], [1, 2], [0, 0]] },
  ];
  for (const testCase of winogradCases) {
    it(`matches the cpu backend: ${testCase.name}`, () => {
      assert.ok(takesWinogradPath(testCase), 'this case is meant to take the Winograd path');
      assertClose(convolveOn('wasm', testCase), convolveOn('cpu', testCase));
    });
  }

  it('leaves convolutions to the backend when it runs on more threads than the module pays off for', () => {
    const { x, filter, pad } = winogradCases[0]!;
    const convInfo = tf.backend_util.computeConv2DInfo(x, filter, 1, 1, pad);
    const input = { dataId: {}, shape: x, dtype: 'float32' as const };
    assert.deepEqual([1, 2, 3, 8].map((threads) => suitsWinograd(input, convInfo, threads)), [true, true, false, false]);
  });

  const fallbackCases: ConvolutionCase[] = [
    { name: 'channels not a multiple of 4', x: [2, 32, 32, 6], filter: [3, 3, 6, 16], pad: 'same' },
    { name: 'too few tiles for the transforms to pay', x: [1, 4, 4, 64], filter: [3, 3, 64, 64], pad: 'same' },
    { name: 'not 3x3', x: [2, 32, 32, 16], filter: [5, 5, 16, 16], pad: 'same' },
  ];
  for (const testCase of fallbackCases) {
    it(`hands other shapes to the original kernel: ${testCase.name}`, () => {
      assert.equal(takesWinogradPath(testCase), false);
      assertClose(convolveOn('wasm', testCase), convolveOn('cpu', testCase));
    });
  }

  for (const pad of ['same', 'valid'] as const) {
    it(`gives the input gradient of a 3x3 '${pad}' convolution (a Winograd convolution with the turned filter)`, () => {
      const gradientOn = (backend: 'wasm' | 'cpu') => {
        tf.setBackend(backend);
        try {
          return tf.tidy(() => {
            const x = tf.tensor4d(values(2 * 32 * 32 * 8, 4), [2, 32, 32, 8]);
            const filter = tf.tensor4d(values(3 * 3 * 8 * 16, 5), [3, 3, 8, 16]);
            const [dx] = tf.grads((input) => tf.conv2d(input as tf.Tensor4D, filter, 1, pad).square().sum())([x]);
            return dx!.dataSync() as Float32Array;
          });
        } finally {
          tf.setBackend('wasm');
        }
      };
      assertClose(gradientOn('wasm'), gradientOn('cpu'));
    });
  }

  for (const testCase of winogradCases.slice(0, 2)) {
    it(`gives the filter gradient the cpu backend gives (Winograd backwards): ${testCase.name}`, () => {
      assert.ok(takesWinogradPath(testCase));
      const gradientOn = (backend: 'wasm' | 'cpu') => {
        tf.setBackend(backend);
        try {
          return tf.tidy(() => {
            const x = tf.tensor4d(values(tf.util.sizeFromShape(testCase.x), 6), testCase.x);
            const filter = tf.tensor4d(values(tf.util.sizeFromShape(testCase.filter), 7), testCase.filter);
            const [dW] = tf.grads((weights) => tf.conv2d(x, weights as tf.Tensor4D, 1, testCase.pad).square().sum())([filter]);
            return dW!.dataSync() as Float32Array;
          });
        } finally {
          tf.setBackend('wasm');
        }
      };
      assertClose(gradientOn('wasm'), gradientOn('cpu'));
    });
  }

  it('gives the same results in chunks of images and of tile rows (how large tensors bound their memory)', () => {
    const xShape: Shape4 = [3, 30, 26, 16];
    const filterShape: Shape4 = [3, 3, 16, 16];
    const convInfo = tf.backend_util.computeConv2DInfo(xShape, filterShape, 1, 1, 'same');
    const bytesPerTile = 36 * 16 * 4;
    const run = (chunkBytes?: number) =>
      tf.tidy(() => {
        const backend = tf.backend() as tf.KernelBackend;
        const x = tf.tensor4d(values(tf.util.sizeFromShape(xShape), 11), xShape);
        const filter = tf.tensor4d(values(tf.util.sizeFromShape(filterShape), 12), filterShape);
        const dy = tf.tensor4d(values(tf.util.sizeFromShape(xShape), 13), xShape);
        const y = tf.engine().makeTensorFromTensorInfo(winogradConvolution(backend, x, filter, convInfo, null, false, chunkBytes));
        const dW = tf.engine().makeTensorFromTensorInfo(winogradFilterGradient(backend, x, dy, convInfo, chunkBytes));
        return [y.dataSync() as Float32Array, dW.dataSync() as Float32Array];
      });
    const [y, dW] = run();
    // 8 x 7 tiles per image: two images per chunk (the last chunk one), then bands of 3, 3 and 2 tile rows.
    for (const chunkBytes of [120 * bytesPerTile, 21 * bytesPerTile]) {
      const [chunkedY, chunkedDW] = run(chunkBytes);
      assertClose(chunkedY!, y!);
      assertClose(chunkedDW!, dW!);
    }
  });

  it('leaves nothing allocated when it fails part-way', () => {
    const xShape: Shape4 = [2, 30, 26, 16];
    const filterShape: Shape4 = [3, 3, 16, 16];
    const convInfo = tf.backend_util.computeConv2DInfo(xShape, filterShape, 1, 1, 'same');
    const backend = tf.backend() as tf.KernelBackend & { numDataIds(): number };
    const filter = tf.zeros(filterShape);
    // An input the backend does not hold: the failure comes after the filter's matrices and the
    // output exist, as an out-of-memory failure in a later chunk would.
    const missing = { dataId: {}, shape: xShape, dtype: 'float32' as const };
    const before = backend.numDataIds();
    assert.throws(() => winogradConvolution(backend, missing, filter, convInfo, null, false));
    assert.throws(() => winogradFilterGradient(backend, missing, filter, convInfo));
    assert.equal(backend.numDataIds(), before);
    filter.dispose();
  });

  it('releases its intermediates', () => {
    const testCase = winogradCases[0]!;
    convolveOn('wasm', testCase);
    const backend = tf.findBackend('wasm') as unknown as { numDataIds(): number };
    const dataIds = backend.numDataIds();
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) convolveOn('wasm', testCase);
    assert.equal(backend.numDataIds(), dataIds);
    assert.equal(tf.memory().numTensors, tensors);
  });
});

/**
 * dx through a Winograd convolution and the fused batch-norm kernels. Self-contained, so that a
 * child process can run the same source (Function#toString).
 */
function convolutionBatchNormGradient(tfjs: typeof tf, normalise: typeof batchNormInTraining): Float32Array {
  return tfjs.tidy(() => {
    const x = tfjs.tensor4d(Float32Array.from({ length: 2 * 32 * 32 * 16 }, (_, i) => Math.sin(i * 0.37)), [2, 32, 32, 16]);
    const filter = tfjs.tensor4d(Float32Array.from({ length: 3 * 3 * 16 * 8 }, (_, i) => Math.cos(i * 0.11)), [3, 3, 16, 8]);
    const [dx] = tfjs.grads((input) => {
      const { output, mean, variance } = normalise(tfjs.conv2d(input as tf.Tensor4D, filter, 1, 'same'), tfjs.ones([8]), tfjs.zeros([8]), 1e-3);
      tfjs.dispose([mean, variance]);
      return output.square().sum();
    })([x]);
    return dx!.dataSync() as Float32Array;
  });
}

describe('the SIMD wasm module', () => {
  /** Runs the input transform of one 6x6 tile of 4 channels on a fresh memory of the given kind. */
  const transformOneTile = (shared: boolean): Float32Array => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared });
    const transforms = simdKernelsFor(memory).winogradF43;
    const floats = new Float32Array(memory.buffer);
    const table = new Int32Array(memory.buffer);
    const input = 0; // [1, 4, 4, 4]: 64 floats; the 'same' tile reads one pixel of padding around it
    floats.set(values(64, 9), input / 4);
    const outputs = 1024; // 36 rows of 4 floats
    const tableAt = 4096;
    for (let k = 0; k < 36; k++) table[tableAt / 4 + k] = outputs + k * 16;
    transforms.input(input, 1, 4, 4, 4, 1, 1, 0, 1, 1, tableAt, 8192);
    return floats.slice(outputs / 4, outputs / 4 + 36 * 4);
  };

  it('works the same on a plain and on a shared memory (the multi-threaded backend has the latter)', () => {
    const plain = transformOneTile(false);
    assert.ok(plain.some((value) => value !== 0));
    assert.deepEqual(transformOneTile(true), plain);
  });

  it("runs in the multi-threaded backend's shared heap as in the single-threaded one", async () => {
    // The threaded build with one thread: the thread count changes nothing here, the heap's kind does.
    const module = (path: string) => JSON.stringify(fileURLToPath(new URL(path, import.meta.url)));
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
      const { installNodePthreadShim } = await import(${module('../app/engine/backend/wasm-kernels/node-pthread-shim.js')});
      const { registerWasmTrainingKernels } = await import(${module('../app/engine/backend/wasm-kernels/index.js')});
      const { batchNormInTraining } = await import(${module('../app/engine/model/batch-norm-in-training.js')});
      const unsupported = installNodePthreadShim();
      if (unsupported !== null) throw new Error(unsupported);
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
      setThreadsCount(1);
      registerWasmTrainingKernels();
      await tf.setBackend('wasm');
      const shared = tf.backend().wasm.HEAPF32.buffer instanceof SharedArrayBuffer;
      const gradient = ${convolutionBatchNormGradient.toString()};
      process.stdout.write(JSON.stringify({ shared, dx: Array.from(gradient(tf, batchNormInTraining)) }) + '\\n', () => process.exit(0));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const threaded = JSON.parse(stdout.trim().split('\n').at(-1)!) as { shared: boolean; dx: number[] };
    assert.equal(threaded.shared, true, 'the threaded build works on a shared heap');
    assertClose(Float32Array.from(threaded.dx), convolutionBatchNormGradient(tf, batchNormInTraining));
  });

  it('reads and writes tensors that lie above 2 GiB in the heap (its offsets are unsigned)', () => {
    const filterGradient = () =>
      tf.tidy(() => {
        const xShape: Shape4 = [2, 32, 32, 16];
        const x = tf.tensor4d(values(tf.util.sizeFromShape(xShape), 21), xShape);
        const dy = tf.tensor4d(values(tf.util.sizeFromShape(xShape), 22), xShape);
        const convInfo = tf.backend_util.computeConv2DInfo(xShape, [3, 3, 16, 16], 1, 1, 'same');
        return tf.engine().makeTensorFromTensorInfo(winogradFilterGradient(tf.backend(), x, dy, convInfo)).dataSync() as Float32Array;
      });
    const low = { dx: convolutionBatchNormGradient(tf, batchNormInTraining), dW: filterGradient() };
    const heap = new WasmHeap(tf.backend());
    // Address space, not memory: never written. Then the free space below it is used up in small
    // pieces, so that what the kernels allocate next lies above 2 GiB.
    const fillers = [heap.allocate([2 ** 29])];
    while (heap.byteOffsetOf(fillers.at(-1)!) < 2 ** 31) fillers.push(heap.allocate([256]));
    try {
      assert.deepEqual(convolutionBatchNormGradient(tf, batchNormInTraining), low.dx);
      assert.deepEqual(filterGradient(), low.dW);
    } finally {
      for (const filler of fillers) tf.backend().disposeData(filler.dataId);
    }
  });

  it('is built from the committed source', async (t) => {
    const folder = fileURLToPath(new URL('../../app/engine/backend/wasm-simd/', import.meta.url));
    const temporary = await mkdtemp(join(tmpdir(), 'winograd-build-'));
    try {
      const rebuilt = join(temporary, 'binary.ts');
      try {
        await promisify(execFile)('bash', [join(folder, 'build.sh'), rebuilt]);
      } catch (error) {
        const missing = /command not found|No such file/.test(String((error as { stderr?: string }).stderr ?? error));
        if (missing && process.env['CI'] !== 'true') {
          t.skip('clang, lld or wabt is not installed (apt-get install -y clang lld wabt)');
          return;
        }
        throw error;
      }
      assert.equal(await readFile(rebuilt, 'utf8'), await readFile(join(folder, 'simd-kernels-binary.ts'), 'utf8'));
    } finally {
      await rm(temporary, { recursive: true, force: true });
    }
  });
});
