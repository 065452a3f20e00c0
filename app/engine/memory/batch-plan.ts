import { AppError } from '../../contract/errors.js';
import type { BatchPlan, ModelConfig } from '../../contract/training.js';
import { UNET_SIZE_MULTIPLE } from '../model/build-unet.js';
import { type BackendMemory, formatGiB } from './backend-memory.js';
import { estimateStepMemory } from './step-memory.js';

/**
 * How a run's batches will run on a backend: whole when the step's estimated peak fits the
 * backend's memory, else as the fewest equal micro-batches that fit (batch 8 as 4 x 2). When not
 * even one image fits it refuses, before any training, naming the largest patch that would.
 */
export function planBatch(model: ModelConfig, batchSize: number, imageSize: { width: number; height: number }, backend: string, memory: BackendMemory): BatchPlan {
  const estimate = (images: number) => estimateStepMemory(model, imageSize, images, memory.model).totalBytes;
  const plan = (microBatchSize: number, reason: string): BatchPlan => ({
    batchSize,
    microBatchSize,
    microBatches: Math.ceil(batchSize / microBatchSize),
    imageSize,
    estimatedBytes: Math.round(estimate(microBatchSize)),
    limitBytes: memory.limitBytes === null ? null : Math.round(memory.limitBytes),
    reason,
  });
  const { limitBytes } = memory;
  const estimated = `${formatGiB(estimate(batchSize))} estimated`;
  if (limitBytes === null) return plan(batchSize, memory.limitReason);
  if (estimate(batchSize) <= limitBytes) return plan(batchSize, `${estimated}, within ${memory.limitReason}`);
  for (let passes = 2; passes <= batchSize; passes++) {
    const microBatchSize = Math.ceil(batchSize / passes);
    if (estimate(microBatchSize) <= limitBytes) {
      return plan(microBatchSize, `a whole batch needs ${estimated}, more than ${memory.limitReason}; the micro-batches' gradients add up to the whole batch's`);
    }
  }
  const fitting = largestFittingPatch(model, imageSize, memory);
  const size = `${imageSize.width}x${imageSize.height}`;
  const suggestion = fitting === null ? 'even a 16x16 patch does not fit: choose a smaller --base' : `a ${fitting}x${fitting} patch fits: train on crops with --patch ${fitting} (or resize with --size or --scale)`;
  throw new AppError(
    'invalid_input',
    `One ${size} image at base ${model.base} needs about ${formatGiB(estimate(1))} per training step, more than the ${backend} backend can give (${memory.limitReason}); ${suggestion}.`,
  );
}

function largestFittingPatch(model: ModelConfig, imageSize: { width: number; height: number }, memory: BackendMemory): number | null {
  const limit = memory.limitBytes!;
  for (let side = Math.floor(Math.max(imageSize.width, imageSize.height) / UNET_SIZE_MULTIPLE) * UNET_SIZE_MULTIPLE; side >= UNET_SIZE_MULTIPLE; side -= UNET_SIZE_MULTIPLE) {
    if (estimateStepMemory(model, { width: side, height: side }, 1, memory.model).totalBytes <= limit) return side;
  }
  return null;
}
