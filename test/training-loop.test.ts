import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { TrainConfig } from '../app/contract/training.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import type { Batch } from '../app/engine/data/batch.js';
import { ConfusionMatrix } from '../app/engine/metrics/confusion-matrix.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { PRESETS } from '../app/engine/model/presets.js';
import { earlyStopping } from '../app/engine/training/callbacks/early-stopping.js';
import { learningRateSchedule } from '../app/engine/training/callbacks/learning-rate-schedule.js';
import { initialScheduleState } from '../app/engine/training/lr-schedule.js';
import { createOptimizer } from '../app/engine/training/optimizer.js';
import { trainStep } from '../app/engine/training/train-step.js';
import type { TrainingCallback } from '../app/engine/training/training-callback.js';
import type { TrainingContext } from '../app/engine/training/training-context.js';
import { type EpochBatches, runTrainingLoop } from '../app/engine/training/training-loop.js';
import type { ValidationResult } from '../app/engine/training/validate.js';
import { createRandom } from '../app/random/prng.js';
import { randomBatch } from './support/random-batch.js';

before(async () => {
  await initialiseBackend('wasm');
});

const config = TrainConfig.parse({
  preset: 'fast',
  model: { base: 8, upsampling: 'transpose', inputChannels: 1, classes: 2 },
  settings: { ...PRESETS.fast.settings, epochs: 4, batchSize: 2, patience: 2, validationPercent: 10, classWeights: null, seed: 1, backend: 'wasm' },
  initialWeightsFrom: null,
});

/** Batches given up front, as a live-assist session would hand over the strokes painted so far. */
function fixedBatches(batches: readonly Batch[]): EpochBatches {
  let next = 0;
  return {
    startEpoch: () => ((next = 0), { steps: batches.length, images: batches.reduce((sum, batch) => sum + batch.size, 0) }),
    next: async () => batches[next++]!,
  };
}

/** A validation result whose foreground Dice is `dice` (2 of 2 truth pixels, `hits` found). */
function validationWithDice(hits: 0 | 1 | 2): ValidationResult {
  const matrix = new ConfusionMatrix(2);
  matrix.add([1, 1, 0, 0], [hits >= 1 ? 1 : 0, hits >= 2 ? 1 : 0, 0, 0]);
  return { loss: 1, matrix, pictures: [] };
}

describe('the training loop', () => {
  let context: TrainingContext;
  before(() => {
    const model = buildUnet(config.model, 1);
    const optimizer = createOptimizer(config.settings);
    const loss = { classes: 2, classWeights: null };
    context = {
      config,
      classes: [{ id: 0, name: 'background', color: '#000000' }, { id: 1, name: 'cell', color: '#e69f00' }],
      model,
      optimizer,
      loss,
      random: createRandom(1),
      signal: new AbortController().signal,
      runStep: (batch) => trainStep(model, optimizer, batch, loss, 1, context.learningRate),
      state: { epoch: 0, schedule: initialScheduleState(), bestEpoch: null, bestValDice: null },
      learningRate: 0,
      stopTraining: false,
    };
  });
  after(() => {
    context.model.dispose();
    context.optimizer.optimizer.dispose();
  });

  it('calls its callbacks in order at each point, and stops early once validation Dice stalls for `patience` epochs', async () => {
    const events: string[] = [];
    const rates: number[] = [];
    const recorder: TrainingCallback = {
      onTrainBegin: () => void events.push('train begin'),
      onStepBegin: (_context, { epoch, step }) => void events.push(`step ${epoch}.${step}`),
      onStepEnd: (current, { epoch, step, imagesDone, images }) => {
        rates.push(current.learningRate);
        events.push(`step end ${epoch}.${step} ${imagesDone}/${images}`);
      },
      onEpochEnd: (current, { record, improved }) => void events.push(`epoch ${record.epoch} dice ${record.valDice} ${improved ? 'best' : ''} best=${current.state.bestEpoch}`),
    };
    // Dice 1, then 0.67 twice: epoch 1 stays the best and patience 2 ends training after epoch 3.
    const dice: Array<0 | 1 | 2> = [2, 1, 1, 1];
    const ended = await runTrainingLoop(context, fixedBatches([randomBatch({ size: 2, height: 32, width: 32, channels: 1, seed: 1 }), randomBatch({ size: 2, height: 32, width: 32, channels: 1, seed: 2 })]), async () => validationWithDice(dice[context.state.epoch]!), [learningRateSchedule(), recorder, earlyStopping()]);
    assert.equal(ended, 'stopped');
    assert.deepEqual(events, [
      'train begin',
      'step 1.0', 'step end 1.1 2/4', 'step 1.1', 'step end 1.2 4/4', 'epoch 1 dice 1 best best=1',
      'step 2.0', 'step end 2.1 2/4', 'step 2.1', 'step end 2.2 4/4', `epoch 2 dice ${2 / 3}  best=1`,
      'step 3.0', 'step end 3.1 2/4', 'step 3.1', 'step end 3.2 4/4', `epoch 3 dice ${2 / 3}  best=1`,
    ]);
    // The schedule set each step's rate: warm-up through epoch 1, then decaying.
    assert.ok(rates[0]! < rates[1]! && rates[2]! > rates.at(-1)!, `rates ${rates.join(', ')}`);
    assert.deepEqual(context.state.epoch, 3);
  });

  it('throws a cancellation after the current step when the signal aborts', async () => {
    const controller = new AbortController();
    const steps: number[] = [];
    const cancelling = { ...context, signal: controller.signal, state: { ...context.state, epoch: 0 }, stopTraining: false };
    const stopAfterFirstStep: TrainingCallback = { onStepBegin: (_context, { step }) => (steps.push(step), step === 0 && controller.abort()) };
    await assert.rejects(runTrainingLoop(cancelling, fixedBatches([randomBatch({ size: 2, height: 32, width: 32, channels: 1, seed: 3 }), randomBatch({ size: 2, height: 32, width: 32, channels: 1, seed: 4 })]), async () => null, [stopAfterFirstStep]), { code: 'cancelled' });
    assert.deepEqual(steps, [0]);
  });
});
