import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { BATCH_NORM_TRAINING_FORWARD, batchNormKernelsSupport } from '../app/engine/backend/wasm-kernels/batch-norm-training.js';
import { batchNormInTraining } from '../app/engine/model/batch-norm-in-training.js';
import { batchNormalization } from '../app/engine/model/batch-normalization-layer.js';
import { createRandom } from '../app/random/prng.js';

before(async () => {
  await initialiseBackend('wasm');
});

function randomTensor(shape: number[], seed: number, offset = 0): tf.Tensor {
  const random = createRandom(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.range(-1, 1) + offset), shape);
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** The definition, in elementary ops that tfjs differentiates itself. */
function referenceBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gamma), beta);
}

// 8 channels on wasm take the fused SIMD kernels; 6 channels, and the cpu backend, the tensor ops.
for (const [backend, channels] of [['wasm', 8], ['wasm', 6], ['cpu', 8]] as const) {
  test(`batchNormInTraining matches the definition and its gradient on ${backend}, ${channels} channels`, async () => {
    await tf.setBackend(backend);
    try {
      assert.equal(tf.getKernel(BATCH_NORM_TRAINING_FORWARD, backend) !== undefined && batchNormKernelsSupport(channels), backend === 'wasm' && channels === 8);
      const x = randomTensor([3, 5, 4, channels], 1, 0.7);
      const gamma = randomTensor([channels], 2, 1);
      const beta = randomTensor([channels], 3);
      const dy = randomTensor([3, 5, 4, channels], 4);
      const epsilon = 1e-5;
      const ours = tf.grads((a, g, b) => {
        const { output, mean, variance } = batchNormInTraining(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, epsilon);
        tf.dispose([mean, variance]);
        return tf.sum(tf.mul(output, dy));
      })([x, gamma, beta]);
      const reference = tf.grads((a, g, b) => tf.sum(tf.mul(referenceBatchNorm(a, g, b, epsilon), dy)))([x, gamma, beta]);
      ['x', 'gamma', 'beta'].forEach((name, index) => {
        const difference = maxDifference(ours[index]!, reference[index]!);
        assert.ok(difference < 1e-4, `d${name}: max difference ${difference}`);
      });
      const { output, mean, variance } = batchNormInTraining(x as tf.Tensor4D, gamma as tf.Tensor1D, beta as tf.Tensor1D, epsilon);
      const moments = tf.moments(x, [0, 1, 2]);
      assert.ok(maxDifference(output, referenceBatchNorm(x, gamma, beta, epsilon)) < 1e-5);
      assert.ok(maxDifference(mean, moments.mean) < 1e-6);
      assert.ok(maxDifference(variance, moments.variance) < 1e-6);
    } finally {
      await tf.setBackend('wasm');
    }
  });
}

test('the batch-norm kernels keep their precision on channels whose mean is far larger than their spread', async () => {
  // Such channels come from near-constant features or un-normalised pixels; float32 sums and
  // x * scale + shift lose them (errors of 1e-2 measured before the kernels squared in float64).
  const channels = 4;
  const random = createRandom(21);
  const means = [1000, 100, -500, 0];
  const spreads = [0.05, 0.1, 1, 1];
  const data = new Float32Array(4 * 64 * 64 * channels);
  for (let i = 0; i < data.length; i++) data[i] = means[i % channels]! + spreads[i % channels]! * random.range(-1.7, 1.7);
  const x = tf.tensor4d(data, [4, 64, 64, channels]);
  const gamma = randomTensor([channels], 22, 1) as tf.Tensor1D;
  const beta = randomTensor([channels], 23) as tf.Tensor1D;
  const dy = randomTensor([4, 64, 64, channels], 24);
  const run = (backend: 'wasm' | 'cpu') => {
    tf.setBackend(backend);
    try {
      return tf.tidy(() => {
        const [dx, dgamma] = tf.grads((a, g) => {
          const { output, mean, variance } = batchNormInTraining(a as tf.Tensor4D, g as tf.Tensor1D, beta, 1e-5);
          tf.dispose([mean, variance]);
          return tf.sum(tf.mul(output, dy));
        })([x, gamma]);
        const { output, variance } = batchNormInTraining(x, gamma, beta, 1e-5);
        return [output, variance, dx!, dgamma!].map((t) => t.dataSync() as Float32Array);
      });
    } finally {
      tf.setBackend('wasm');
    }
  };
  assert.ok(tf.getKernel(BATCH_NORM_TRAINING_FORWARD, 'wasm') !== undefined && batchNormKernelsSupport(channels));
  const onWasm = run('wasm');
  const onCpu = run('cpu');
  ['output', 'variance', 'dx', 'dgamma'].forEach((name, index) => {
    const ours = onWasm[index]!;
    const reference = onCpu[index]!;
    const magnitude = Math.max(...reference.map(Math.abs));
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - reference[i]!));
    assert.ok(worst <= 1e-3 * magnitude, `${name}: max difference ${worst} for values up to ${magnitude}`);
  });
});

for (const channels of [3, 4]) {
test(`the U-Net batch-norm layer trains like tfjs-layers and saves as a plain BatchNormalization (${channels} channels)`, async () => {
  const args = { momentum: 0.9, epsilon: 1e-5, name: 'bn' };
  const ours = batchNormalization(args);
  const theirs = tf.layers.batchNormalization(args);
  const input = randomTensor([2, 4, 4, channels], 8, 0.5);
  for (const layer of [ours, theirs]) {
    (layer.apply(input) as tf.Tensor).dispose(); // builds the weights
    layer.setWeights([randomTensor([channels], 9, 1), randomTensor([channels], 10), randomTensor([channels], 11), randomTensor([channels], 12, 2)]);
  }
  const step = (layer: tf.layers.Layer) =>
    tf.variableGrads(() => tf.sum(tf.square(layer.apply(input, { training: true }) as tf.Tensor)) as tf.Scalar, layer.trainableWeights.map((weight) => weight.read() as tf.Variable));
  const ourStep = step(ours);
  const theirStep = step(theirs);
  assert.ok(Math.abs(ourStep.value.dataSync()[0]! - theirStep.value.dataSync()[0]!) < 1e-3);
  const gradients = (layer: tf.layers.Layer, grads: tf.NamedTensorMap) => layer.trainableWeights.map((weight) => grads[(weight.read() as tf.Variable).name]!);
  const theirGradients = gradients(theirs, theirStep.grads);
  gradients(ours, ourStep.grads).forEach((gradient, index) => assert.ok(maxDifference(gradient, theirGradients[index]!) < 1e-4, `gradient ${index}`));
  // Moving mean and variance advance the same way.
  ours.getWeights().forEach((weight, index) => assert.ok(maxDifference(weight, theirs.getWeights()[index]!) < 1e-5, `weight ${index}`));
  assert.equal(ours.getClassName(), 'BatchNormalization');
  assert.deepEqual(ours.getConfig(), theirs.getConfig());
});
}

test('batch-norm training steps leave no tensors behind', () => {
  const layer = batchNormalization({ epsilon: 1e-5 });
  const input = randomTensor([2, 4, 4, 4], 8);
  (layer.apply(input) as tf.Tensor).dispose(); // builds the layer's variables
  const step = () => tf.tidy(() => tf.variableGrads(() => tf.sum(tf.square(layer.apply(input, { training: true }) as tf.Tensor)) as tf.Scalar).value);
  step().dispose();
  const before = tf.memory().numTensors;
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const dataIds = backend.numDataIds();
  for (let i = 0; i < 3; i++) step().dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(backend.numDataIds(), dataIds, 'the kernels release their scratch memory');
});
