import { AppError } from '../../contract/errors.js';
import type { BatchPlan, ModelConfig } from '../../contract/training.js';
import { UNET_SIZE_MULTIPLE } from '../model/unet-shape.js';
import { type BackendMemory, backendMemory, formatGiB } from './backend-memory.js';
import { estimateStepMemory, largestStepTensorBytes } from './step-memory.js';

/**
 * How a run's batches will run on a backend: whole when the step's estimated peak fits the
 * backend's memory, else as the fewest equal micro-batches that fit (batch 8 as 4 x 2). With
 * data-parallel `replicas` each one's part of a batch is planned so against its own memory
 * (`memory` is one replica's). When not even one image fits it refuses, before any training,
 * naming the largest patch that would.
 */
export function planBatch(model: ModelConfig, batchSize: number, imageSize: { width: number; height: number }, backend: string, memory: BackendMemory, replicas = 1): BatchPlan {
  const part = Math.ceil(batchSize / replicas);
  const estimate = (images: number) => estimateStepMemory(model, imageSize, images, memory.model).totalBytes;
  const plan = (microBatchSize: number, reason: string): BatchPlan => ({
    batchSize,
    replicas,
    microBatchSize,
    microBatches: Math.ceil(part / microBatchSize),
    imageSize,
    estimatedBytes: Math.round(estimate(microBatchSize)),
    limitBytes: memory.limitBytes === null ? null : Math.round(memory.limitBytes),
    reason: replicas > 1 ? `${replicas} data-parallel replicas of ${part} images each; ${reason}` : reason,
  });
  const problem = (images: number) => stepProblem(model, imageSize, images, backend, memory);
  const whole = problem(part);
  if (whole === null) return plan(part, memory.limitBytes === null ? memory.limitReason : `${formatGiB(estimate(part))} estimated, within ${memory.limitReason}`);
  for (let passes = 2; passes <= part; passes++) {
    const microBatchSize = Math.ceil(part / passes);
    if (problem(microBatchSize) === null) return plan(microBatchSize, `a whole ${replicas > 1 ? 'part' : 'batch'} ${whole}; the micro-batches' gradients add up to the whole batch's`);
  }
  const fitting = largestFittingPatch(model, imageSize, backend, memory);
  const size = `${imageSize.width}x${imageSize.height}`;
  const suggestion = fitting === null ? 'even a 16x16 patch does not fit: choose a smaller --base' : `a ${fitting}x${fitting} patch fits: train on crops with --patch ${fitting} (or resize with --size or --scale)`;
  throw new AppError('invalid_input', `One ${size} image at base ${model.base} ${problem(1)}; ${suggestion}.`);
}

/**
 * How many data-parallel replicas a wasm run on `threads` threads uses: one per thread, but no
 * more than a batch has images, and only as many as leave each replica (its own heap, its share
 * of the machine's memory) room for one image. 1 = one model whose kernels use the threads.
 */
export function planReplicas(model: ModelConfig, batchSize: number, imageSize: { width: number; height: number }, threads: number): number {
  for (let replicas = Math.min(threads, batchSize); replicas >= 2; replicas--) {
    if (stepProblem(model, imageSize, 1, 'wasm', backendMemory('wasm', replicas)) === null) return replicas;
  }
  return 1;
}

/** Why a step on `images` images does not fit the backend (its total, or one tensor's bound), or null when it does. */
function stepProblem(model: ModelConfig, size: { width: number; height: number }, images: number, backend: string, memory: BackendMemory): string | null {
  const total = estimateStepMemory(model, size, images, memory.model).totalBytes;
  if (memory.limitBytes !== null && total > memory.limitBytes) return `needs about ${formatGiB(total)} per training step, more than the ${backend} backend can give (${memory.limitReason})`;
  const tensor = largestStepTensorBytes(model, size, images);
  if (memory.largestTensorBytes !== undefined && tensor > memory.largestTensorBytes) {
    return `makes a ${formatGiB(tensor)} tensor, more than the ${formatGiB(memory.largestTensorBytes)} one tensor may hold on the ${backend} backend (${memory.limitReason})`;
  }
  return null;
}

function largestFittingPatch(model: ModelConfig, imageSize: { width: number; height: number }, backend: string, memory: BackendMemory): number | null {
  for (let side = Math.floor(Math.max(imageSize.width, imageSize.height) / UNET_SIZE_MULTIPLE) * UNET_SIZE_MULTIPLE; side >= UNET_SIZE_MULTIPLE; side -= UNET_SIZE_MULTIPLE) {
    if (stepProblem(model, { width: side, height: side }, 1, backend, memory) === null) return side;
  }
  return null;
}
