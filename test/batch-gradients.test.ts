import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import type { Batch } from '../app/engine/data/batch.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { batchGradients, batchTensors, microBatches } from '../app/engine/training/batch-gradients.js';
import { partlyLabelledBatch } from './support/random-batch.js';
import { assertClose } from './support/seeded-values.js';

/** Float sums in another order: 5e-5 of the largest value (at least 1e-3). */
const GRADIENT_TOLERANCE = 5e-5;
const GRADIENT_FLOOR = 1e-3;

before(async () => {
  await initialiseBackend('wasm');
});

function gradientsOf(model: tf.LayersModel, batch: Batch, classes: number, classWeights: number[] | null, microBatchSize: number, training: boolean) {
  return tf.tidy(() => {
    const { value, grads } = batchGradients(model, batch, { classes, classWeights }, { microBatchSize, training });
    return { loss: value.dataSync()[0]!, grads: Object.fromEntries(Object.entries(grads).map(([name, tensor]) => [name, tensor.dataSync() as Float32Array])) };
  });
}


describe('micro-batched gradients', () => {
  for (const [classes, classWeights] of [[2, null], [3, [1, 2, 0.5]]] as const) {
    it(`equal the whole batch's (${classes} classes, batch norm in inference mode), batch 5 as 2 + 2 + 1`, () => {
      const model = buildUnet({ base: 8, upsampling: 'transpose', inputChannels: 1, classes }, 4);
      const batch = partlyLabelledBatch(5, classes, classes);
      const tensorsBefore = tf.memory().numTensors;
      const whole = gradientsOf(model, batch, classes, classWeights ? [...classWeights] : null, 5, false);
      const micro = gradientsOf(model, batch, classes, classWeights ? [...classWeights] : null, 2, false);
      assert.equal(tf.memory().numTensors, tensorsBefore);
      assert.ok(Math.abs(micro.loss - whole.loss) < 1e-5, `loss ${micro.loss} vs ${whole.loss}`);
      assert.deepEqual(Object.keys(micro.grads), Object.keys(whole.grads));
      for (const name of Object.keys(whole.grads)) assertClose(micro.grads[name]!, whole.grads[name]!, name, GRADIENT_TOLERANCE, GRADIENT_FLOOR);
      // Not a trivial match: a single micro-batch's gradient is a different one.
      const first = gradientsOf(model, microBatches(batch, 2)[0]!, classes, classWeights ? [...classWeights] : null, 2, false);
      assert.ok(Math.abs(first.loss - whole.loss) > 1e-4);
      model.dispose();
    });
  }

  it('in training mode, move the batch-norm averages once per micro-batch (not in the forward-only pass)', () => {
    const config = { base: 8, upsampling: 'transpose', inputChannels: 1, classes: 2 } as const;
    const batch = partlyLabelledBatch(4, 2, 9);
    const movingAverages = (model: tf.LayersModel) => model.nonTrainableWeights.map((weight) => weight.read().dataSync() as Float32Array);

    const microBatched = buildUnet(config, 5);
    gradientsOf(microBatched, batch, 2, null, 2, true);
    const expected = buildUnet(config, 5);
    for (const part of microBatches(batch, 2)) tf.tidy(() => void expected.apply(batchTensors(part).images, { training: true }));

    const actual = movingAverages(microBatched);
    movingAverages(expected).forEach((values, index) => assertClose(actual[index]!, values, microBatched.nonTrainableWeights[index]!.originalName, GRADIENT_TOLERANCE, GRADIENT_FLOOR));
    microBatched.dispose();
    expected.dispose();
  });
});
