import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { describeChosenBackend } from '../app/contract/describe-backend.js';
import { AppError } from '../app/contract/errors.js';
import { describeBatchPlan, type ModelConfig, TrainRequest } from '../app/contract/training.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { measureHeapPeak } from '../app/engine/backend/wasm-kernels/heap-peak.js';
import { type BackendMemory, registerBackendMemory } from '../app/engine/memory/backend-memory.js';
import { planBatch, planReplicas } from '../app/engine/memory/batch-plan.js';
import { estimateStepMemory, largestStepTensorBytes, WASM_STEP_MEMORY } from '../app/engine/memory/step-memory.js';
import { unetFootprint } from '../app/engine/memory/unet-footprint.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { RunFolder } from '../app/engine/runs/run-store.js';
import { createOptimizer } from '../app/engine/training/optimizer.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { trainStep } from '../app/engine/training/train-step.js';
import { train } from '../app/engine/training/trainer.js';
import { randomBatch } from './support/random-batch.js';
import { tempDir } from './support/temp-dir.js';
import { TINY_SETTINGS, tinyProject } from './support/tiny-project.js';

before(async () => {
  await initialiseBackend('wasm');
});

/** The wasm heap as the planner holds it: 80% of 4 GiB. */
const WASM: BackendMemory = { limitBytes: 0.8 * 4 * 2 ** 30, limitReason: 'the test heap', model: WASM_STEP_MEMORY, measured: true };
const unet = (base: ModelConfig['base'], inputChannels: 1 | 3 = 1): ModelConfig => ({ base, upsampling: 'transpose', inputChannels, classes: 2 });

describe('unetFootprint', () => {
  /** Every layer's output values per input pixel, walked from the built model (pooling halves, up-sampling doubles). */
  const builtActivationsPerPixel = (model: tf.LayersModel): number => {
    const scale = new Map<string, number>();
    let perPixel = 0;
    for (const layer of model.layers) {
      const [source] = layer.inboundNodes[0]!.inboundLayers;
      let layerScale = source ? scale.get(source.name)! : 1;
      if (layer.getClassName() === 'MaxPooling2D') layerScale /= 2;
      if (['Conv2DTranspose', 'UpSampling2D'].includes(layer.getClassName())) layerScale *= 2;
      scale.set(layer.name, layerScale);
      perPixel += ((layer.outputShape as number[])[3]!) * layerScale ** 2;
    }
    return perPixel;
  };

  for (const config of [unet(8), { ...unet(16, 3), upsampling: 'bilinear', classes: 4 }, { ...unet(32), classes: 3 }] as ModelConfig[]) {
    it(`counts what buildUnet builds: ${JSON.stringify(config)}`, () => {
      const model = buildUnet(config);
      const footprint = unetFootprint(config);
      assert.equal(footprint.parameters, model.countParams());
      assert.equal(footprint.activationsPerPixel, builtActivationsPerPixel(model));
      model.dispose();
    });
  }
});

describe('the step memory estimate', () => {
  it('covers the measured peak of a real step on the wasm backend, without overshooting it by much', async () => {
    const config = unet(8);
    const model = buildUnet(config, 1);
    const optimizer = createOptimizer({ optimizer: 'adam', learningRate: 1e-3, weightDecay: 0 });
    const loss = { classes: 2, classWeights: null };
    await trainStep(model, optimizer, randomBatch({ size: 1, height: 32, width: 32, channels: 1 }), loss, 1, 1e-3);
    const resident = tf.memory().numBytes;
    // The step's work is synchronous; only reading its loss back waits.
    const { result, peakBytes } = measureHeapPeak(tf.backend(), () => trainStep(model, optimizer, randomBatch({ size: 2, height: 256, width: 256, channels: 1 }), loss, 1, 1e-3));
    await result;
    const measured = resident + peakBytes;
    const estimated = estimateStepMemory(config, { width: 256, height: 256 }, 2).totalBytes;
    assert.ok(estimated >= 0.97 * measured && estimated <= 1.1 * measured, `estimated ${estimated}, measured ${measured}`);
    model.dispose();
    optimizer.optimizer.dispose();
  });
});

describe('planBatch', () => {
  const size512 = { width: 512, height: 512 };

  it('runs batches whole when they fit, and as the fewest equal micro-batches when they do not', () => {
    const four = planBatch(unet(16), 4, size512, 'wasm', WASM);
    assert.deepEqual([four.microBatchSize, four.microBatches], [4, 1]);
    assert.equal(describeBatchPlan(four), 'batch 4');
    const eight = planBatch(unet(16), 8, size512, 'wasm', WASM);
    assert.deepEqual([eight.microBatchSize, eight.microBatches], [4, 2]);
    assert.equal(describeBatchPlan(eight), 'batch 8 as 4 x 2');
    assert.ok(eight.estimatedBytes <= WASM.limitBytes! && estimateStepMemory(unet(16), size512, 8).totalBytes > WASM.limitBytes!);
    assert.match(eight.reason, /^a whole batch needs about .* GiB per training step, more than the wasm backend can give \(the test heap/);
    assert.equal(describeBatchPlan(planBatch(unet(16), 7, size512, 'wasm', WASM)), 'batch 7 as 4 x 2 (the last 3)');
  });

  it('refuses a step that cannot fit one image, naming the patch that would fit', () => {
    const size = { width: 1024, height: 1024 };
    const refusal = (() => {
      try {
        planBatch(unet(32, 3), 2, size, 'wasm', WASM);
      } catch (error) {
        return error as AppError;
      }
      assert.fail('a 1024x1024 step at base 32 was planned');
    })();
    assert.equal(refusal.code, 'invalid_input');
    const patch = Number(/--patch (\d+)/.exec(refusal.message)?.[1]);
    assert.match(refusal.message, /^One 1024x1024 image at base 32 needs about .* GiB per training step, more than the wasm backend can give/);
    const fits = (side: number) => estimateStepMemory(unet(32, 3), { width: side, height: side }, 1).totalBytes <= WASM.limitBytes!;
    assert.ok(patch % 16 === 0 && fits(patch) && !fits(patch + 16), `patch ${patch}`);
  });

  it("keeps a GPU's one-tensor bound: micro-batches whose largest tensor fits, or a refusal naming the patch that does", () => {
    // The top level's concatenation at base 16 holds 32 values a pixel: 512x512 is 32 MiB an image,
    // so 3 images fit 100 MiB, and the largest square patch is 896 (905 rounded down to a multiple of 16).
    const gpu = { ...WASM, limitBytes: null, largestTensorBytes: 100 * 2 ** 20, limitReason: 'a test GPU' };
    assert.equal(largestStepTensorBytes(unet(16), size512, 1), 32 * 2 ** 20);
    const plan = planBatch(unet(16), 8, size512, 'webgpu', gpu);
    assert.deepEqual([plan.microBatchSize, plan.microBatches, plan.limitBytes], [3, 3, null]);
    assert.match(plan.reason, /^a whole batch makes a 256 MiB tensor, more than the 100 MiB one tensor may hold on the webgpu backend \(a test GPU\)/);
    assert.throws(
      () => planBatch(unet(16), 2, { width: 2048, height: 2048 }, 'webgpu', gpu),
      (error: AppError) => error.code === 'invalid_input' && /^One 2048x2048 image at base 16 makes a 512 MiB tensor, .*; a 896x896 patch fits: train on crops with --patch 896/.test(error.message),
    );
  });

  it('runs batches as asked where the backend does not report its memory', () => {
    const plan = planBatch(unet(64), 64, { width: 2048, height: 2048 }, 'tfjs-node-gpu', { ...WASM, limitBytes: null, limitReason: 'no memory figure' });
    assert.deepEqual([plan.microBatchSize, plan.limitBytes], [64, null]);
  });
});

describe('training with a batch plan', () => {
  it('records the plan in run.json, trains in micro-batches, and keeps the tensor count flat across epochs', async (t) => {
    const project = await tinyProject(await tempDir(t), { count: 10, size: 128 });
    // A backend with room for 2 of these 128x128 images per pass: batches of 4 run as 2 x 2.
    const room = estimateStepMemory(unet(8), { width: 128, height: 128 }, 2).totalBytes;
    assert.ok(estimateStepMemory(unet(8), { width: 128, height: 128 }, 3).totalBytes > room);
    registerBackendMemory('wasm', () => ({ ...WASM, limitBytes: room, limitReason: 'a test limit' }));
    // One thread: one model, whose batches run as micro-batches.
    const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, preset: 'fast', settings: { ...TINY_SETTINGS, epochs: 3, threads: 1 } }));
    const counts: number[] = [];
    const summary = await train({ project, run, resume: false, signal: new AbortController().signal, onEpoch: (record) => counts.push(record.numTensors) });
    assert.equal(summary.state, 'completed');
    const recorded = (await RunFolder.open(project, run.id)).summary.batchPlan!;
    assert.equal(describeBatchPlan(recorded), 'batch 4 as 2 x 2');
    assert.deepEqual(recorded.imageSize, { width: 128, height: 128 });
    assert.ok(counts.every((count) => count === counts[0]), `tensors per epoch: ${counts.join(', ')}`);
  });

  it('plans data-parallel replicas on 2 threads, each micro-batching its part when the part does not fit, and records how it ran', async (t) => {
    const project = await tinyProject(await tempDir(t), { count: 10, size: 128 });
    // Room for 1 of these images per pass: each replica's 2 images of a batch of 4 run as 1 x 2.
    const room = estimateStepMemory(unet(8), { width: 128, height: 128 }, 1).totalBytes;
    registerBackendMemory('wasm', () => ({ ...WASM, limitBytes: room, limitReason: 'a test limit' }));
    const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, preset: 'fast', settings: { ...TINY_SETTINGS, epochs: 2, threads: 2 } }));
    const counts: number[] = [];
    const summary = await train({ project, run, resume: false, signal: new AbortController().signal, onEpoch: (record) => counts.push(record.numTensors) });
    assert.equal(summary.state, 'completed');
    const recorded = (await RunFolder.open(project, run.id)).summary;
    assert.equal(describeBatchPlan(recorded.batchPlan!), 'batch 4 on 2 replicas x 2, each as 1 x 2');
    assert.equal(recorded.backend?.replicas, 2);
    assert.match(describeChosenBackend(recorded.backend!), /^wasm \(2 replicas x 1 thread\)/);
    assert.ok(counts.every((count) => count === counts[0]), `tensors per epoch: ${counts.join(', ')}`);
  });

  it('keeps one model on the threads when a batch has one image', () => {
    assert.equal(planReplicas(unet(8), 1, { width: 128, height: 128 }, 8), 1);
    assert.equal(planReplicas(unet(8), 4, { width: 128, height: 128 }, 1), 1);
    assert.equal(planReplicas(unet(8), 4, { width: 128, height: 128 }, 8), 4);
    assert.equal(describeBatchPlan({ batchSize: 5, microBatchSize: 3, replicas: 2 }), 'batch 5 on 2 replicas x 3');
  });

  it('refuses before training when one image does not fit, and the run says why', async (t) => {
    const project = await tinyProject(await tempDir(t), { count: 4, size: 256 });
    registerBackendMemory('wasm', () => ({ ...WASM, limitBytes: estimateStepMemory(unet(8), { width: 192, height: 192 }, 1).totalBytes, limitReason: 'a test limit' }));
    const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, preset: 'fast', settings: { ...TINY_SETTINGS, epochs: 1 } }));
    await assert.rejects(train({ project, run, resume: false, signal: new AbortController().signal }), /One 256x256 image at base 8 .* a 192x192 patch fits: train on crops with --patch 192/);
    const failed = (await RunFolder.open(project, run.id)).summary;
    assert.equal(failed.state, 'failed');
    assert.match(failed.error!, /--patch 192/);
    assert.equal(failed.epochsDone, 0);
  });
});
