import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { createRandom } from '../app/random/prng.js';

before(async () => {
  await initialiseBackend('wasm');
});

function values(count: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => random.range(-1, 1));
}

/** dx of conv2d (= Conv2DBackpropInput) on a backend, as plain numbers. */
function inputGradientOn(backend: 'wasm' | 'cpu', xShape: [number, number, number, number], filterShape: [number, number, number, number], stride: number, pad: 'same' | 'valid' | number, seed: number): Float32Array {
  tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d(values(xShape.reduce((a, b) => a * b), seed), xShape);
      const filter = tf.tensor4d(values(filterShape.reduce((a, b) => a * b), seed + 1), filterShape);
      const outShape = (tf.conv2d(x, filter, stride, pad).shape);
      const dy = tf.tensor4d(values(outShape.reduce((a, b) => a * b), seed + 2), outShape as [number, number, number, number]);
      return tf.conv2dTranspose(dy, filter, xShape, stride, pad).dataSync() as Float32Array;
    });
  } finally {
    tf.setBackend('wasm');
  }
}

const cases: { name: string; x: [number, number, number, number]; filter: [number, number, number, number]; stride: number; pad: 'same' | 'valid' | number }[] = [
  { name: '3x3 same, stride 1 (conv input gradient)', x: [2, 12, 10, 5], filter: [3, 3, 5, 7], stride: 1, pad: 'same' },
  { name: '3x3 valid, stride 1', x: [1, 9, 11, 3], filter: [3, 3, 3, 4], stride: 1, pad: 'valid' },
  { name: '1x1, stride 1', x: [2, 6, 6, 4], filter: [1, 1, 4, 6], stride: 1, pad: 'valid' },
  { name: '4x2 same (uneven padding), stride 1', x: [1, 8, 8, 2], filter: [4, 2, 2, 3], stride: 1, pad: 'same' },
  { name: '2x2 stride 2 (transposed-conv forward)', x: [2, 8, 12, 6], filter: [2, 2, 6, 8], stride: 2, pad: 'valid' },
  { name: '3x3 same, stride 2 (falls back to the original kernel)', x: [1, 9, 9, 3], filter: [3, 3, 3, 2], stride: 2, pad: 'same' },
];

for (const { name, x, filter, stride, pad } of cases) {
  test(`Conv2DBackpropInput on wasm matches the cpu backend: ${name}`, () => {
    const wasm = inputGradientOn('wasm', x, filter, stride, pad, 17);
    const cpu = inputGradientOn('cpu', x, filter, stride, pad, 17);
    assert.equal(wasm.length, cpu.length);
    let worst = 0;
    for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(wasm[i]! - cpu[i]!));
    assert.ok(worst < 1e-4, `max abs difference ${worst}`);
  });
}

test('the replacement kernel releases its intermediates', () => {
  const run = () => inputGradientOn('wasm', [2, 16, 16, 8], [2, 2, 8, 8], 2, 'valid', 3);
  run();
  const before = tf.memory().numTensors;
  const bytes = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  for (let i = 0; i < 5; i++) run();
  assert.equal(tf.memory().numTensors, before);
  assert.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), bytes);
});
