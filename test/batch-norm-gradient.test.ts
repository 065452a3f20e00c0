import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { createRandom } from '../app/random/prng.js';

before(async () => {
  await initialiseBackend('wasm');
});

function randomTensor(shape: number[], seed: number, offset = 0): tf.Tensor {
  const random = createRandom(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.range(-1, 1) + offset), shape);
}

test('the lean batch-norm gradient equals the gradient of the same formula in elementary ops', () => {
  const x = randomTensor([2, 5, 4, 3], 1);
  const mean = randomTensor([3], 2);
  const variance = randomTensor([3], 3, 1.5);
  const scale = randomTensor([3], 4);
  const offset = randomTensor([3], 5);
  const dy = randomTensor([2, 5, 4, 3], 6);
  const epsilon = 1e-3;
  const fused = tf.grads((a, m, v, s, o) => tf.mul(tf.batchNorm(a as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, o as tf.Tensor1D, s as tf.Tensor1D, epsilon), dy));
  const elementary = tf.grads((a, m, v, s, o) => tf.mul(tf.add(tf.mul(tf.mul(tf.sub(a, m), s), tf.rsqrt(tf.add(v, epsilon))), o), dy));
  const ours = fused([x, mean, variance, scale, offset]);
  const reference = elementary([x, mean, variance, scale, offset]);
  ['x', 'mean', 'variance', 'scale', 'offset'].forEach((name, index) => {
    const difference = tf.max(tf.abs(tf.sub(ours[index]!, reference[index]!))).dataSync()[0]!;
    assert.ok(difference < 1e-4, `${name}: max difference ${difference}`);
  });
});

test('batch-norm training steps leave no tensors behind', () => {
  const layer = tf.layers.batchNormalization({ epsilon: 1e-5 });
  const input = randomTensor([2, 4, 4, 3], 8);
  (layer.apply(input) as tf.Tensor).dispose(); // builds the layer's variables
  const step = () => tf.tidy(() => tf.variableGrads(() => tf.sum(tf.square(layer.apply(input, { training: true }) as tf.Tensor)) as tf.Scalar).value);
  step().dispose();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step().dispose();
  assert.equal(tf.memory().numTensors, before);
});
