import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import os from 'node:os';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';

import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { kernelThreadsFor, splitEvenly, type KernelThreads } from '../app/engine/backend/wasm-kernels/kernel-threads.js';
import { WasmHeap } from '../app/engine/backend/wasm-kernels/wasm-heap.js';
import { winogradConvolution, winogradFilterGradient } from '../app/engine/backend/wasm-kernels/winograd-conv2d.js';
import { batchNormInTraining } from '../app/engine/model/batch-norm-in-training.js';
import { createRandom } from '../app/random/prng.js';

// The threaded paths of the wasm kernels, checked against tfjs's cpu backend on shapes large
// enough to be cut into pieces for two threads (on a machine with one core they run one after
// another, through the same code).
let threads: KernelThreads;

before(async () => {
  const backend = await initialiseBackend('wasm', { threads: 2 });
  threads = kernelThreadsFor(new WasmHeap(tf.backend()).memory());
  assert.equal(threads.count, Math.min(2, os.availableParallelism()), backend.threadsReason);
});

function values(count: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => random.range(-1, 1));
}

function assertClose(actual: Float32Array, expected: Float32Array, label: string, tolerance = 1e-4): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let magnitude = 1;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    magnitude = Math.max(magnitude, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  assert.ok(worst <= tolerance * magnitude, `${label}: max abs error ${worst} for values up to ${magnitude}`);
}

/** `compute` on the wasm backend and on the cpu backend, each result as plain numbers. */
function onBothBackends(compute: () => tf.Tensor[]): { wasm: Float32Array[]; cpu: Float32Array[] } {
  const run = (backend: 'wasm' | 'cpu') => {
    tf.setBackend(backend);
    try {
      return tf.tidy(() => compute().map((tensor) => tensor.dataSync() as Float32Array));
    } finally {
      tf.setBackend('wasm');
    }
  };
  return { wasm: run('wasm'), cpu: run('cpu') };
}

/** Whether this much work is cut into pieces for the threads (always, when there are several). */
function assertSplit(work: number): void {
  if (threads.count > 1) assert.ok(threads.piecesFor(work) > 1, `work ${work} is not shared`);
}

describe('kernel threads', () => {
  it('cut a range into nearly equal, non-empty pieces', () => {
    assert.deepEqual(splitEvenly(10, 3), [[0, 3], [3, 6], [6, 10]]);
    assert.deepEqual(splitEvenly(2, 5), [[0, 1], [1, 2]]);
    assert.deepEqual(splitEvenly(0, 4), [[0, 0]]);
    assert.equal(threads.piecesFor(1), 1, 'a tiny kernel stays on the calling thread');
  });

  it('report a piece that fails on any thread, and go on working', () => {
    const heap = new WasmHeap(tf.backend());
    const source = heap.allocate([64]);
    const target = heap.allocate([64 * 64]);
    const at = (tensor: tf.TensorInfo) => heap.byteOffsetOf(tensor);
    const outside = 0xfffffff0;
    // Many pieces, every fourth one reading past the heap's end: some land on a helper.
    const pieces = Array.from({ length: 64 }, (_, piece) => [
      { kernel: 'copyRuns' as const, args: [piece % 4 === 3 ? outside : at(source), 0, at(target) + piece * 256, 0, 64, 1] as [number, number, number, number, number, number] },
    ]);
    assert.throws(() => threads.run(pieces), /memory access out of bounds/);
    heap.heap().set(values(64, 1), heap.offsetOf(source));
    threads.run(pieces.filter((_, piece) => piece % 4 !== 3));
    const copied = heap.heap().slice(heap.offsetOf(target), heap.offsetOf(target) + 64);
    assert.deepEqual(copied, values(64, 1));
    for (const tensor of [source, target]) tf.backend().disposeData(tensor.dataId);
  });
});

describe('Winograd convolutions on threads', () => {
  const xShape: [number, number, number, number] = [3, 30, 26, 16];
  const filterShape: [number, number, number, number] = [3, 3, 16, 20];
  const convInfo = tf.backend_util.computeConv2DInfo(xShape, filterShape, 1, 1, 'same');

  /** y (with bias and ReLU) and dW by the Winograd kernels, cut into `pieces`. */
  const convolve = (pieces: number, chunkBytes?: number) =>
    tf.tidy(() => {
      const backend = tf.backend();
      const x = tf.tensor4d(values(tf.util.sizeFromShape(xShape), 11), xShape);
      const filter = tf.tensor4d(values(tf.util.sizeFromShape(filterShape), 12), filterShape);
      const bias = tf.tensor1d(values(20, 13));
      const dy = tf.tensor4d(values(tf.util.sizeFromShape(convInfo.outShape), 14), convInfo.outShape);
      const options = { pieces, ...(chunkBytes ? { chunkBytes } : {}) };
      const y = tf.engine().makeTensorFromTensorInfo(winogradConvolution(backend, x, filter, convInfo, bias, true, options));
      const dW = tf.engine().makeTensorFromTensorInfo(winogradFilterGradient(backend, x, dy, convInfo, options));
      return [y.dataSync() as Float32Array, dW.dataSync() as Float32Array];
    });

  it('give the same numbers however the work is cut, in chunks or not', () => {
    const [y, dW] = convolve(1);
    // 8 x 7 tiles per image; chunks of 3 tile rows make bands cross chunk and image edges.
    for (const [pieces, chunkBytes] of [[2], [3], [7], [16], [3, 21 * 36 * 20 * 4]] as [number, number?][]) {
      const [piecedY, piecedDW] = convolve(pieces, chunkBytes);
      assert.deepEqual(piecedY, y, `y in ${pieces} pieces`);
      if (chunkBytes === undefined) assert.deepEqual(piecedDW, dW, `dW in ${pieces} pieces`);
      else assertClose(piecedDW!, dW!, `dW in ${pieces} pieces, chunked`);
    }
  });

  it("match the cpu backend on a first layer's grey input (its one channel padded to 4), forward and filter gradient", () => {
    const shape: [number, number, number, number] = [4, 128, 128, 1];
    assertSplit(4 * 32 * 32 * 36 * 4 * 16);
    const { wasm, cpu } = onBothBackends(() => {
      const x = tf.tensor4d(values(tf.util.sizeFromShape(shape), 24), shape);
      const filter = tf.tensor4d(values(3 * 3 * 16, 25), [3, 3, 1, 16]);
      const dy = tf.tensor4d(values(4 * 128 * 128 * 16, 26), [4, 128, 128, 16]);
      const y = tf.conv2d(x, filter, 1, 'same');
      const [dW] = tf.grads((weights) => tf.sum(tf.mul(tf.conv2d(x, weights as tf.Tensor4D, 1, 'same'), dy)))([filter]);
      return [y, dW!];
    });
    ['y', 'dW'].forEach((name, index) => assertClose(wasm[index]!, cpu[index]!, name));
  });

  it('match the cpu backend at a batch-4 U-Net shape, forward and both gradients', () => {
    const shape: [number, number, number, number] = [4, 64, 64, 16];
    const info = tf.backend_util.computeConv2DInfo(shape, [3, 3, 16, 32], 1, 1, 'same');
    assertSplit(4 * 16 * 16 * 36 * 16 * 32);
    const { wasm, cpu } = onBothBackends(() => {
      const x = tf.tensor4d(values(tf.util.sizeFromShape(shape), 21), shape);
      const filter = tf.tensor4d(values(3 * 3 * 16 * 32, 22), [3, 3, 16, 32]);
      const dy = tf.tensor4d(values(tf.util.sizeFromShape(info.outShape), 23), info.outShape);
      const y = tf.conv2d(x, filter, 1, 'same');
      const [dx, dW] = tf.grads((input, weights) => tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, weights as tf.Tensor4D, 1, 'same'), dy)))([x, filter]);
      return [y, dx!, dW!];
    });
    ['y', 'dx', 'dW'].forEach((name, index) => assertClose(wasm[index]!, cpu[index]!, name));
  });
});

describe('layer kernels on threads', () => {
  it('batch normalisation in training, forward and backward, matches the cpu backend', () => {
    const shape: [number, number, number, number] = [4, 64, 64, 16];
    const size = tf.util.sizeFromShape(shape);
    assertSplit(4 * size);
    const { wasm, cpu } = onBothBackends(() => {
      const x = tf.add(tf.tensor4d(values(size, 31), shape), 3);
      const gamma = tf.tensor1d(values(16, 32));
      const beta = tf.tensor1d(values(16, 33));
      const dy = tf.tensor4d(values(size, 34), shape);
      const forward = batchNormInTraining(x as tf.Tensor4D, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-5);
      const gradients = tf.grads((input, scale, offset) => {
        const { output } = batchNormInTraining(input as tf.Tensor4D, scale as tf.Tensor1D, offset as tf.Tensor1D, 1e-5);
        return tf.sum(tf.mul(output, dy));
      })([x, gamma, beta]);
      return [forward.output, forward.mean, forward.variance, ...gradients];
    });
    ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'].forEach((name, index) => assertClose(wasm[index]!, cpu[index]!, name));
  });

  it('the max-pooling gradient matches the cpu backend, ties and odd edges included', () => {
    const odd: [number, number, number, number] = [4, 97, 99, 18];
    assertSplit(2 * tf.util.sizeFromShape(odd));
    const { wasm, cpu } = onBothBackends(() => {
      // Rounded values make ties within windows common; the first maximum takes the gradient.
      const x = tf.round(tf.mul(tf.tensor4d(values(tf.util.sizeFromShape(odd), 41), odd), 2));
      const dy = tf.tensor4d(values(4 * 48 * 49 * 18, 42), [4, 48, 49, 18]);
      const [dx] = tf.grads((input) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid'), dy)))([x]);
      return [dx!];
    });
    assert.deepEqual(wasm[0], cpu[0]);
  });

  it('concatenation along channels and its gradient (the split) match the cpu backend', () => {
    const [skipShape, upShape, joinedShape] = [[4, 128, 128, 16], [4, 128, 128, 8], [4, 128, 128, 24]] as [number, number, number, number][];
    assertSplit(tf.util.sizeFromShape(joinedShape));
    const { wasm, cpu } = onBothBackends(() => {
      const skip = tf.tensor4d(values(tf.util.sizeFromShape(skipShape), 51), skipShape);
      const upsampled = tf.tensor4d(values(tf.util.sizeFromShape(upShape), 52), upShape);
      const weights = tf.tensor4d(values(tf.util.sizeFromShape(joinedShape), 53), joinedShape);
      const joined = tf.concat([skip, upsampled], 3);
      const [dSkip, dUpsampled] = tf.grads((a, b) => tf.sum(tf.mul(tf.concat([a!, b!], 3), weights)))([skip, upsampled]);
      return [joined, dSkip!, dUpsampled!];
    });
    wasm.forEach((result, index) => assert.deepEqual(result, cpu[index]));
  });

  it('the filter gradient by padded channel planes (a 2x2 filter) matches the cpu backend', () => {
    const input: [number, number, number, number] = [4, 128, 128, 9];
    assertSplit(2 * tf.util.sizeFromShape(input));
    const { wasm, cpu } = onBothBackends(() => {
      const x = tf.tensor4d(values(tf.util.sizeFromShape(input), 61), input);
      const filter = tf.tensor4d(values(2 * 2 * 9 * 8, 62), [2, 2, 9, 8]);
      const dy = tf.tensor4d(values(4 * 128 * 128 * 8, 63), [4, 128, 128, 8]);
      const [dW] = tf.grads((weights) => tf.sum(tf.mul(tf.conv2d(x, weights as tf.Tensor4D, 1, 'same'), dy)))([filter]);
      return [dW!];
    });
    assertClose(wasm[0]!, cpu[0]!, 'dW');
  });
});

describe('a whole training step at 512x512', () => {
  // Fresh processes, since threads are fixed when the backend starts: one training step's loss and
  // gradients of a U-Net (base 8, batch 2, grey 512x512) on one thread and on two.
  const modules = Object.fromEntries(
    ['engine/backend/select-backend', 'engine/model/build-unet', 'engine/training/lean-gradients', 'engine/training/loss', 'engine/training/batch-gradients', 'random/prng'].map((name) => [
      name.split('/').at(-1)!,
      JSON.stringify(fileURLToPath(new URL(`../app/${name}.js`, import.meta.url))),
    ]),
  );
  const gradientsOnThreads = async (threads: number) => {
    const script = `
      import * as tf from '@tensorflow/tfjs';
      const { initialiseBackend } = await import(${modules['select-backend']});
      const { buildUnet } = await import(${modules['build-unet']});
      const { leanVariableGrads } = await import(${modules['lean-gradients']});
      const { segmentationLoss } = await import(${modules['loss']});
      const { trainableVariables } = await import(${modules['batch-gradients']});
      const { createRandom } = await import(${modules['prng']});
      const backend = await initialiseBackend('wasm', { threads: ${threads} });
      const random = createRandom(7);
      const [batch, size] = [2, 512];
      const images = tf.tensor4d(Float32Array.from({ length: batch * size * size }, () => random.next()), [batch, size, size, 1]);
      const labels = tf.tensor3d(Int32Array.from({ length: batch * size * size }, () => (random.next() < 0.4 ? 1 : 0)), [batch, size, size], 'int32');
      const model = buildUnet({ base: 8, upsampling: 'transpose', inputChannels: 1, classes: 2 }, 3);
      const lossOf = () => segmentationLoss(model.apply(images, { training: true }), labels, { classes: 2, classWeights: null });
      const { value, grads } = leanVariableGrads(lossOf, trainableVariables(model));
      const gradients = Object.fromEntries(Object.entries(grads).map(([name, gradient]) => [name, Array.from(gradient.dataSync())]));
      console.log(JSON.stringify({ threads: backend.threads, loss: value.dataSync()[0], gradients }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      timeout: 300_000,
      maxBuffer: 256 * 1024 * 1024,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { threads: number; loss: number; gradients: Record<string, number[]> };
  };

  it('gives the same loss and gradients on two threads as on one (batch-norm sums added in bands differ only by rounding)', async () => {
    const single = await gradientsOnThreads(1);
    const two = await gradientsOnThreads(2);
    assert.deepEqual([single.threads, two.threads], [1, Math.min(2, os.availableParallelism())]);
    assert.ok(Math.abs(two.loss - single.loss) <= 1e-5 * Math.abs(single.loss), `loss ${two.loss} on two threads, ${single.loss} on one`);
    assert.deepEqual(Object.keys(two.gradients).sort(), Object.keys(single.gradients).sort());
    assert.ok(Object.keys(single.gradients).length > 40, 'every conv and batch-norm variable of the U-Net');
    for (const [name, expected] of Object.entries(single.gradients)) {
      const actual = two.gradients[name]!;
      // Relative to the variable's own largest gradient, however small: a floor of 1 would hide
      // errors in the many gradients far below it.
      const magnitude = expected.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
      const worst = actual.reduce((largest, value, i) => Math.max(largest, Math.abs(value - expected[i]!)), 0);
      assert.ok(worst <= 1e-3 * magnitude, `${name}: max abs difference ${worst} for gradients up to ${magnitude}`);
    }
  });
});
