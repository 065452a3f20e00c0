import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { assembleBatch } from '../app/engine/data/batch.js';
import { augmentedView } from '../app/engine/data/augment.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { createRandom } from '../app/random/prng.js';

before(async () => {
  await initialiseBackend('wasm');
});

test('the U-Net keeps the input size and gives one logit (binary) or one per class', () => {
  const cases = [
    { base: 8, upsampling: 'transpose', inputChannels: 1, classes: 2, out: 1 },
    { base: 8, upsampling: 'bilinear', inputChannels: 3, classes: 4, out: 4 },
  ] as const;
  for (const { out, ...config } of cases) {
    const model = buildUnet(config);
    const logits = tf.tidy(() => (model.predict(tf.zeros([2, 48, 80, config.inputChannels])) as tf.Tensor).shape);
    assert.deepEqual(logits, [2, 48, 80, out]);
    model.dispose();
  }
});

test('parameter counts follow the reference architecture (base 16 ≈ 1.9M, transposed; base 64 ≈ 31M)', () => {
  const small = buildUnet({ base: 16, upsampling: 'transpose', inputChannels: 1, classes: 2 });
  const paper = buildUnet({ base: 64, upsampling: 'transpose', inputChannels: 3, classes: 2 });
  const trainable = (model: tf.LayersModel) => model.trainableWeights.reduce((sum, weight) => sum + weight.shape.reduce((a, b) => a! * b!, 1)!, 0);
  assert.ok(Math.abs(trainable(small) - 1.94e6) / 1.94e6 < 0.02, String(trainable(small)));
  assert.ok(Math.abs(trainable(paper) - 31.0e6) / 31.0e6 < 0.02, String(trainable(paper)));
  small.dispose();
  paper.dispose();
});

test("a run's seed fixes the starting weights", () => {
  const config = { base: 8, upsampling: 'transpose', inputChannels: 1, classes: 2 } as const;
  const weights = (seed: number) => {
    const model = buildUnet(config, seed);
    const values = model.weights.filter((weight) => weight.originalName.endsWith('/kernel')).map((weight) => Array.from(weight.read().dataSync()));
    model.dispose();
    return values;
  };
  const first = weights(7);
  assert.deepEqual(weights(7), first);
  const other = weights(8);
  assert.ok(other.some((values, index) => values.some((value, i) => value !== first[index]![i])), 'another seed starts elsewhere');
  // Every kernel gets its own stream: no two layers start with the same values.
  const kernels = first.map((values) => values.slice(0, 8).join());
  assert.equal(new Set(kernels).size, kernels.length);
});

test('augmentation moves image and mask together; padding to 16 is labelled ignore', () => {
  const [width, height] = [20, 12];
  const image = new Float32Array(width * height);
  const labels = new Uint8Array(width * height);
  // A bright rectangle that is exactly the class-1 region.
  for (let y = 3; y < 8; y++) for (let x = 4; x < 13; x++) {
    image[y * width + x] = 1;
    labels[y * width + x] = 1;
  }
  const random = createRandom(5);
  const augmentation = { flips: true, rotate90: true, scale: [0.8, 1.25] as [number, number], rotateDegrees: 20, brightness: 0, contrast: 0, noise: 0 };
  for (let trial = 0; trial < 20; trial++) {
    const view = augmentedView({ id: 'a', width, height, channels: 1, image, labels }, augmentation, random, { width: 16, height: 16 });
    // Bilinear intensities blur the rectangle's edge by up to a pixel; inside, they agree with the labels.
    const meanWhere = (label: number) => {
      const values = [...view.image].filter((_, i) => view.labels[i] === label);
      return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    };
    assert.ok(meanWhere(1) > 0.75, `mean intensity under label 1: ${meanWhere(1)} (trial ${trial})`);
    assert.ok(meanWhere(0) < 0.2, `mean intensity under label 0: ${meanWhere(0)} (trial ${trial})`);
  }
  const batch = assembleBatch([{ id: 'a', width, height, channels: 1, image, labels }]);
  assert.deepEqual([batch.height, batch.width], [16, 32]);
  assert.equal(batch.labels[0 * 32 + 25], 255, 'right padding');
  assert.equal(batch.labels[14 * 32 + 3], 255, 'bottom padding');
  assert.equal(batch.labels[5 * 32 + 5], 1);
});
