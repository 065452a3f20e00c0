// One cell of bench/train-grid: plan a training step for the wasm backend and run it once, or
// report the planner's refusal. Prints one JSON line; a crash shows as this process failing.
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../app/contract/errors.js';
import { describeBatchPlan, type ModelConfig } from '../app/contract/training.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { WasmHeap } from '../app/engine/backend/wasm-kernels/wasm-heap.js';
import { backendMemory } from '../app/engine/memory/backend-memory.js';
import { planBatch } from '../app/engine/memory/batch-plan.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { createOptimizer } from '../app/engine/training/optimizer.js';
import { trainStep } from '../app/engine/training/train-step.js';
import { randomBatch } from '../test/support/random-batch.js';

export interface GridCell {
  size: number;
  batch: number;
  base: ModelConfig['base'];
  channels: 1 | 3;
}

export type GridOutcome = { status: 'ran'; plan: string; seconds: number; heapMiB: number } | { status: 'refused'; message: string };

const cell = JSON.parse(process.argv[2]!) as GridCell;
const backend = await initialiseBackend('wasm');
const config: ModelConfig = { base: cell.base, upsampling: 'transpose', inputChannels: cell.channels, classes: 2 };
const outcome = await (async (): Promise<GridOutcome> => {
  let plan;
  try {
    plan = planBatch(config, cell.batch, { width: cell.size, height: cell.size }, backend.name, backendMemory(backend.name));
  } catch (error) {
    if (error instanceof AppError && error.code === 'invalid_input') return { status: 'refused', message: error.message };
    throw error;
  }
  const model = buildUnet(config, 1);
  const optimizer = createOptimizer({ optimizer: 'adam', learningRate: 1e-3, weightDecay: 0 });
  const started = performance.now();
  const batch = randomBatch({ size: cell.batch, height: cell.size, width: cell.size, channels: cell.channels });
  const loss = await trainStep(model, optimizer, batch, { classes: 2, classWeights: null }, 1, 1e-3, plan.microBatchSize);
  if (!Number.isFinite(loss)) throw new Error(`loss ${loss}`);
  const seconds = (performance.now() - started) / 1000;
  return { status: 'ran', plan: describeBatchPlan(plan), seconds, heapMiB: new WasmHeap(tf.backend()).memory().buffer.byteLength / 2 ** 20 };
})();
process.stdout.write(`${JSON.stringify(outcome)}\n`);
