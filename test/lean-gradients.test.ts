import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { measureHeapPeak } from '../app/engine/backend/wasm-kernels/heap-peak.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { leanVariableGrads } from '../app/engine/training/lean-gradients.js';
import { segmentationLoss } from '../app/engine/training/loss.js';
import { createOptimizer } from '../app/engine/training/optimizer.js';
import { trainableVariables } from '../app/engine/training/batch-gradients.js';
import { trainStep } from '../app/engine/training/train-step.js';
import { randomBatch } from './support/random-batch.js';

before(async () => {
  await initialiseBackend('wasm');
});

describe('leanVariableGrads', () => {
  let model: tf.LayersModel;
  const batch = randomBatch({ size: 2, height: 64, width: 64, channels: 1, seed: 5 });
  before(() => {
    model = buildUnet({ base: 8, upsampling: 'transpose', inputChannels: 1, classes: 2 }, 3);
  });
  const lossOf = () =>
    tf.tidy(() => {
      const images = tf.tensor4d(batch.images, [batch.size, batch.height, batch.width, batch.channels]);
      const labels = tf.tensor3d(batch.labels, [batch.size, batch.height, batch.width], 'int32');
      return segmentationLoss(model.apply(images, { training: true }) as tf.Tensor4D, labels, { classes: 2, classWeights: null });
    });

  it('gives the gradients tf.variableGrads gives, and leaves no tensor behind', () => {
    const variables = trainableVariables(model);
    const plain = tf.variableGrads(lossOf, variables);
    const before = tf.memory().numTensors;
    const lean = leanVariableGrads(lossOf, variables);
    assert.equal(tf.memory().numTensors - before, variables.length + 1, 'the loss and one gradient per variable');
    assert.equal(lean.value.dataSync()[0], plain.value.dataSync()[0]);
    for (const name of Object.keys(plain.grads)) {
      assert.deepEqual(lean.grads[name]!.dataSync(), plain.grads[name]!.dataSync(), name);
    }
    tf.dispose([plain.value, lean.value, ...Object.values(plain.grads), ...Object.values(lean.grads)]);
  });

  it('needs far less memory at its peak (activations and their gradients are let go on the way)', () => {
    const variables = trainableVariables(model);
    const peakOf = (gradients: typeof leanVariableGrads) =>
      measureHeapPeak(tf.backend(), () => {
        const { value, grads } = gradients(lossOf, variables);
        tf.dispose([value, ...Object.values(grads)]);
      }).peakBytes;
    const plain = peakOf(tf.variableGrads);
    const lean = peakOf(leanVariableGrads);
    assert.ok(lean < 0.65 * plain, `peak ${lean} bytes, against ${plain} for tf.variableGrads`);
  });
});

describe('one training step at the size users train at', () => {
  // 512x512, batch 4, base 16 needed 4.2 GB, past the 4 GiB of the wasm heap, before the
  // backward pass let go of what it no longer needs (the crash of issue 12).
  for (const channels of [1, 3] as const) {
    it(`512x512, batch 4, base 16, ${channels} channel(s): a finite loss, no tensor left behind`, async () => {
      const model = buildUnet({ base: 16, upsampling: 'transpose', inputChannels: channels, classes: 2 }, 1);
      const optimizer = createOptimizer({ optimizer: 'adam', learningRate: 1e-3, weightDecay: 0 });
      const before = tf.memory().numTensors;
      const loss = await trainStep(model, optimizer, randomBatch({ size: 4, height: 512, width: 512, channels, seed: channels }), { classes: 2, classWeights: null }, 1, 1e-3);
      assert.ok(Number.isFinite(loss), `loss ${loss}`);
      // Adam's two moments per variable are all the first step adds.
      assert.equal(tf.memory().numTensors - before, 2 * model.trainableWeights.length);
      model.dispose();
      optimizer.optimizer.dispose();
    });
  }
});
