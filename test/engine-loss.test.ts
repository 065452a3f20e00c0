import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { ConfusionMatrix } from '../app/engine/metrics/confusion-matrix.js';
import { segmentationLoss } from '../app/engine/training/loss.js';
import { createRandom } from '../app/random/prng.js';

before(async () => {
  await initialiseBackend('wasm');
});

/** Random logits and labels where the right part of every image (columns >= keep) is labelled 255. */
function withIgnoredRegion(classes: number, keep: number) {
  const random = createRandom(7);
  const [b, h, w] = [2, 6, 10];
  const channels = classes === 2 ? 1 : classes;
  const logits = Float32Array.from({ length: b * h * w * channels }, () => random.normal() * 2);
  const labels = Int32Array.from({ length: b * h * w }, (_, i) => (i % w >= keep ? 255 : Math.floor(random.next() * classes)));
  const full = { logits: tf.tensor4d(logits, [b, h, w, channels]), labels: tf.tensor3d(labels, [b, h, w], 'int32') };
  const cropped = { logits: full.logits.slice([0, 0, 0, 0], [b, h, keep, channels]), labels: full.labels.slice([0, 0, 0], [b, h, keep]) };
  return { full, cropped };
}

for (const classes of [2, 3]) {
  test(`${classes === 2 ? 'binary' : '3-class'} loss: ignored (255) pixels count exactly like pixels cut away`, () => {
    const { full, cropped } = withIgnoredRegion(classes, 6);
    for (const classWeights of [null, classes === 2 ? [1, 2] : [1, 2, 0.5]]) {
      const withIgnore = segmentationLoss(full.logits, full.labels, { classes, classWeights }).dataSync()[0]!;
      const withoutRegion = segmentationLoss(cropped.logits, cropped.labels, { classes, classWeights }).dataSync()[0]!;
      assert.ok(Number.isFinite(withIgnore) && withIgnore > 0);
      assert.ok(Math.abs(withIgnore - withoutRegion) < 1e-5, `${withIgnore} vs ${withoutRegion}`);
    }
    // Changing logits under the ignored region changes nothing.
    const noisy = tf.tidy(() => full.logits.add(tf.mul(tf.cast(tf.expandDims(tf.equal(full.labels, 255), 3), 'float32'), 50)) as tf.Tensor4D);
    const a = segmentationLoss(full.logits, full.labels, { classes, classWeights: null }).dataSync()[0]!;
    const b = segmentationLoss(noisy, full.labels, { classes, classWeights: null }).dataSync()[0]!;
    assert.ok(Math.abs(a - b) < 1e-6);
  });
}

test('a confident correct prediction has a lower loss than a confident wrong one', () => {
  const labels = tf.tensor3d([[[0, 1], [1, 0]]], [1, 2, 2], 'int32');
  const right = tf.tensor4d([-8, 8, 8, -8], [1, 2, 2, 1]);
  const wrong = tf.tensor4d([8, -8, -8, 8], [1, 2, 2, 1]);
  const lossRight = segmentationLoss(right, labels, { classes: 2, classWeights: null }).dataSync()[0]!;
  const lossWrong = segmentationLoss(wrong, labels, { classes: 2, classWeights: null }).dataSync()[0]!;
  assert.ok(lossRight < 0.01, String(lossRight));
  assert.ok(lossWrong > 5, String(lossWrong));
});

test('confusion-matrix metrics: Dice, IoU, accuracy; 255 ignored; empty/empty counts as 1', () => {
  const matrix = new ConfusionMatrix(3);
  //            truth:      0  0  1  1  1  2    255
  matrix.add(Uint8Array.from([0, 0, 1, 1, 1, 2, 255]), Uint8Array.from([0, 1, 1, 1, 0, 0, 2]));
  // class 1: overlap 2, |truth| 3, |pred| 3 -> Dice 4/6, IoU 2/4
  assert.equal(matrix.dice(1), 4 / 6);
  assert.equal(matrix.iou(1), 2 / 4);
  // class 2: in truth once, never predicted -> 0; the 255 pixel predicted as 2 is ignored
  assert.equal(matrix.dice(2), 0);
  assert.equal(matrix.pixelAccuracy(), 3 / 6);
  assert.equal(matrix.meanForegroundDice(), (4 / 6 + 0) / 2);
  const empty = new ConfusionMatrix(2);
  empty.add(Uint8Array.from([0, 0]), Uint8Array.from([0, 0]));
  assert.equal(empty.dice(1), 1);
  assert.equal(empty.iou(1), 1);
});
