import type { ModelConfig } from '../../contract/training.js';
import { outputChannels } from '../model/unet-shape.js';
import { unetFootprint } from './unet-footprint.js';

/**
 * How a backend's training step uses memory, in multiples of what the planner can count: the
 * network's activations (unetFootprint) and parameters. Fitted by `npm run bench -- step-memory`,
 * which measures the peak of real steps and reports the estimate's error.
 */
export interface StepMemoryModel {
  /** Peak of the forward and backward pass, per byte of forward activations. */
  activations: number;
  /** Values per pixel and class the multi-class loss holds (one-hot, softmax, their products). */
  lossPerClassPixel: number;
  /** Peak of clipping and the optimizer update (all variables at once), per byte of parameters. */
  update: number;
  /** What lives between steps, per byte of parameters: weights and the optimizer's two moments. */
  resident: number;
}

/**
 * The wasm backend, measured single-threaded with its Winograd kernels (bench/step-memory.ts). The
 * update's peak is tfjs's: its Adam and our gradient clipping keep every variable's temporaries
 * until the whole update is done.
 */
export const WASM_STEP_MEMORY: StepMemoryModel = { activations: 1.27, lossPerClassPixel: 13, update: 17, resident: 3 };

export interface StepMemory {
  /** Weights and optimizer state. */
  residentBytes: number;
  /** The step's own peak on top of that. */
  stepBytes: number;
  totalBytes: number;
}

/** Estimated memory of one training step on `images` images of `width` x `height`. */
export function estimateStepMemory(config: ModelConfig, size: { width: number; height: number }, images: number, model: StepMemoryModel = WASM_STEP_MEMORY): StepMemory {
  const { parameters, activationsPerPixel } = unetFootprint(config);
  const pixels = size.width * size.height * images;
  const classes = outputChannels(config);
  const lossValues = classes > 1 ? model.lossPerClassPixel * classes : 0;
  const parameterBytes = parameters * Float32Array.BYTES_PER_ELEMENT;
  const passBytes = (model.activations * activationsPerPixel + lossValues) * pixels * Float32Array.BYTES_PER_ELEMENT;
  const stepBytes = Math.max(passBytes, model.update * parameterBytes);
  const residentBytes = model.resident * parameterBytes;
  return { residentBytes, stepBytes, totalBytes: residentBytes + stepBytes };
}

/**
 * Bytes of the largest tensor of a step on `images` images: the top level's concatenation of skip
 * and up-sampled features (2 x base channels at full size, and its gradient), or the logits when
 * there are more classes than that.
 */
export function largestStepTensorBytes(config: ModelConfig, size: { width: number; height: number }, images: number): number {
  return images * size.width * size.height * Math.max(2 * config.base, outputChannels(config)) * Float32Array.BYTES_PER_ELEMENT;
}
