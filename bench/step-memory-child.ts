// One configuration of bench/step-memory: the measured peak memory of a training step on the
// wasm backend, next to the planner's estimate.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../app/contract/training.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { measureHeapPeak } from '../app/engine/backend/wasm-kernels/heap-peak.js';
import { estimateStepMemory } from '../app/engine/memory/step-memory.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { createOptimizer } from '../app/engine/training/optimizer.js';
import { trainStep } from '../app/engine/training/train-step.js';
import { randomBatch } from '../test/support/random-batch.js';

const { model: config, size, batch } = JSON.parse(process.argv[2]!) as { model: ModelConfig; size: number; batch: number };
await initialiseBackend('wasm');
const model = buildUnet(config, 1);
const optimizer = createOptimizer({ optimizer: 'adam', learningRate: 1e-3, weightDecay: 0 });
const loss = { classes: config.classes, classWeights: null };
// A first step at a tiny size creates the optimizer's moments, which then stay between steps.
await trainStep(model, optimizer, randomBatch({ size: 1, height: 32, width: 32, channels: config.inputChannels, classes: config.classes }), loss, 1, 1e-3);
const residentBytes = tf.memory().numBytes;
const images = randomBatch({ size: batch, height: size, width: size, channels: config.inputChannels, classes: config.classes, seed: 1 });
// The step's work is synchronous; only reading its loss back waits.
const { result, peakBytes } = measureHeapPeak(tf.backend(), () => trainStep(model, optimizer, images, loss, 1, 1e-3));
await result;
const estimate = estimateStepMemory(config, { width: size, height: size }, batch);
process.stdout.write(`${JSON.stringify({ measuredBytes: residentBytes + peakBytes, estimatedBytes: estimate.totalBytes })}\n`);
