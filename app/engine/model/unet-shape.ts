import type { ModelConfig } from '../../contract/training.js';

// Facts about the U-Net's shape that planning, batching and export need without building a model
// (and without loading TensorFlow.js, which the host never does).

/** Spatial size must be a multiple of this (four 2x2 poolings); inputs are padded to it. */
export const UNET_SIZE_MULTIPLE = 16;

/** One logit for binary models (sigmoid), one per class otherwise (softmax). */
export function outputChannels(config: ModelConfig): number {
  return config.classes === 2 ? 1 : config.classes;
}
