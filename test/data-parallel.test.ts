import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import type { ModelConfig } from '../app/contract/training.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { createOptimizer } from '../app/engine/training/optimizer.js';
import { DataParallelSteps, replicaParts } from '../app/engine/training/replicas/data-parallel.js';
import type { ReplicaSetup } from '../app/engine/training/replicas/replica-messages.js';
import { trainStep } from '../app/engine/training/train-step.js';
import { partlyLabelledBatch } from './support/random-batch.js';
import { assertClose } from './support/seeded-values.js';

/** Float sums in another order: 5e-5 of the largest value (at least 1e-3). */
const GRADIENT_TOLERANCE = 5e-5;
const GRADIENT_FLOOR = 1e-3;

before(async () => {
  // This thread is replica 0: a single-threaded wasm backend, as a data-parallel run's is.
  await initialiseBackend('wasm', { threads: 1 });
});

const MODEL: ModelConfig = { base: 8, upsampling: 'transpose', inputChannels: 1, classes: 3 };
const LOSS = { classes: 3, classWeights: [1, 2, 0.5] };
const LEARNING_RATE = 1e-2;

function setupFor(microBatchSize: number, training: boolean): ReplicaSetup {
  return { model: MODEL, optimizer: { optimizer: 'adamw', learningRate: LEARNING_RATE, weightDecay: LEARNING_RATE }, loss: LOSS, clipNorm: 1, microBatchSize, training };
}

const weightValues = (model: tf.LayersModel) => model.weights.map((weight) => weight.read().dataSync() as Float32Array);


/** The optimizer's state as values: its step count, then (Adam) the gradients' first and second moments. */
async function optimizerState(optimizer: tf.Optimizer): Promise<Float32Array[]> {
  const state = await optimizer.getWeights();
  const values = state.map((named) => Float32Array.from(named.tensor.dataSync()));
  tf.dispose(state.map((named) => named.tensor).filter((tensor) => !(tensor instanceof tf.Variable)));
  return values;
}

/** This process's threads (Linux): a worker thread that ended is gone from the list. */
const threadCount = () => readdirSync('/proc/self/task').length;

describe('data-parallel training steps', () => {
  for (const { replicas, batchSize, microBatchSize } of [
    { replicas: 2, batchSize: 4, microBatchSize: 2 },
    { replicas: 2, batchSize: 5, microBatchSize: 2 },
    { replicas: 3, batchSize: 2, microBatchSize: 1 },
  ]) {
    it(`give the whole batch's loss and weights (${replicas} replicas, batch ${batchSize}, micro-batches of ${microBatchSize}, batch norm in inference mode)`, async () => {
      const batch = partlyLabelledBatch(batchSize, 3, batchSize);
      const setup = setupFor(microBatchSize, false);
      const threadsBefore = threadCount();

      const whole = buildUnet(MODEL, 7);
      const wholeOptimizer = createOptimizer(setup.optimizer);
      const replicated = buildUnet(MODEL, 7);
      const replicatedOptimizer = createOptimizer(setup.optimizer);
      const steps = await DataParallelSteps.start(replicas, replicated, replicatedOptimizer, setup);
      try {
        // At learning rate 0 a step only leaves the clipped gradient in Adam's moments (m = 0.1 g, v = 0.001 g^2).
        const lossOfWhole = await trainStep(whole, wholeOptimizer, batch, LOSS, setup.clipNorm, 0, batch.size, { training: false });
        assert.ok(Math.abs((await steps.step(batch, 0)) - lossOfWhole) < 1e-5);
        const tensorsAfterFirst = tf.memory().numTensors;
        const expectedMoments = await optimizerState(wholeOptimizer.optimizer);
        const actualMoments = await optimizerState(replicatedOptimizer.optimizer);
        expectedMoments.forEach((values, index) => assertClose(actualMoments[index]!, values, `optimizer state ${index}`, GRADIENT_TOLERANCE, GRADIENT_FLOOR));
        // Then real steps: the same losses from weights moved the same way.
        for (let step = 0; step < 2; step++) {
          const expected = await trainStep(whole, wholeOptimizer, batch, LOSS, setup.clipNorm, LEARNING_RATE, batch.size, { training: false });
          const actual = await steps.step(batch, LEARNING_RATE);
          assert.ok(Math.abs(actual - expected) < 1e-4, `loss ${actual} vs ${expected}`);
        }
        assert.equal(tf.memory().numTensors, tensorsAfterFirst, 'tensors after more steps');
        const actualWeights = weightValues(replicated);
        // The other replicas hold exactly this thread's weights and optimizer state.
        const ownState = await optimizerState(replicatedOptimizer.optimizer);
        for (const other of await steps.replicaWeights()) {
          other.model.forEach((tensor, index) => assert.deepEqual(tensor.values, actualWeights[index], tensor.name));
          assert.equal(other.optimizer.length, ownState.length);
          other.optimizer.forEach((tensor, index) => assert.deepEqual(tensor.values, ownState[index], tensor.name));
        }
        // Not a trivial match: the step moved the weights.
        const initial = weightValues(buildUnet(MODEL, 7));
        assert.ok(initial.some((values, index) => values.some((value, i) => value !== actualWeights[index]![i])));
      } finally {
        await steps.close();
        whole.dispose();
        replicated.dispose();
      }
      assert.equal(threadCount(), threadsBefore, 'threads after close');
    });
  }

  it('keep the replicas identical in training mode (batch-norm moving statistics averaged) and the tensor count flat', async () => {
    const setup = setupFor(4, true);
    const model = buildUnet(MODEL, 3);
    const optimizer = createOptimizer(setup.optimizer);
    const steps = await DataParallelSteps.start(2, model, optimizer, setup);
    try {
      await steps.step(partlyLabelledBatch(4, 3, 11), LEARNING_RATE);
      const tensorsAfterFirst = tf.memory().numTensors;
      for (let step = 0; step < 3; step++) await steps.step(partlyLabelledBatch(3, 3, 12 + step), LEARNING_RATE);
      assert.equal(tf.memory().numTensors, tensorsAfterFirst);
      const own = weightValues(model);
      const [other] = await steps.replicaWeights();
      other!.model.forEach((tensor, index) => assert.deepEqual(tensor.values, own[index], tensor.name));
      // The moving statistics moved from their initial values (means 0) with the steps.
      const movingMean = model.nonTrainableWeights.find((weight) => weight.originalName.endsWith('moving_mean'))!;
      assert.ok((movingMean.read().dataSync() as Float32Array).some((value) => value !== 0));
    } finally {
      await steps.close();
      model.dispose();
    }
  });

  it("fail the step with a replica's error instead of waiting for it, and end their threads", async () => {
    const setup = setupFor(4, true);
    const model = buildUnet(MODEL, 3);
    const threadsBefore = threadCount();
    const steps = await DataParallelSteps.start(2, model, createOptimizer(setup.optimizer), setup);
    try {
      // Pixels for 3 of its 4 images: this thread's part is whole, the other replica's is not.
      const batch = partlyLabelledBatch(4, 3, 5);
      const broken = { ...batch, images: batch.images.subarray(0, 3 * batch.height * batch.width) };
      await assert.rejects(steps.step(broken, LEARNING_RATE), /shape|size|values/i);
    } finally {
      await steps.close();
      model.dispose();
    }
    assert.equal(threadCount(), threadsBefore);
  });

  it('cut a batch into consecutive parts, some empty when the batch has fewer images than replicas', () => {
    const batch = partlyLabelledBatch(3, 3, 1);
    const parts = replicaParts(batch, 4);
    assert.deepEqual(parts.map((part) => part.size), [0, 1, 1, 1]);
    const pixels = batch.height * batch.width;
    assert.deepEqual(Array.from(parts[3]!.labels), Array.from(batch.labels.subarray(2 * pixels, 3 * pixels)));
  });
});
