import type { ModelConfig } from '../../contract/training.js';
import { outputChannels } from '../model/build-unet.js';

/** The sizes the memory planner works from, for one U-Net configuration. */
export interface UnetFootprint {
  /** Trainable and non-trainable values (weights, batch-norm statistics). */
  parameters: number;
  /**
   * Values of every layer output of the forward pass (and the input) per input pixel: a layer at
   * 1/2^l of the input size with C channels adds C / 4^l. Times height x width, one image's
   * activations.
   */
  activationsPerPixel: number;
}

/**
 * The footprint of buildUnet's network, counted from the same recipe (a test checks both numbers
 * against the built model, so the two cannot drift apart): DoubleConv = (3x3 conv, BN, ReLU) x 2,
 * max-pooling, transposed-conv or bilinear up-sampling, concatenation, 1x1 head.
 */
export function unetFootprint(config: ModelConfig): UnetFootprint {
  const b = config.base;
  const factor = config.upsampling === 'bilinear' ? 2 : 1;
  let parameters = 0;
  let activationsPerPixel = config.inputChannels;
  const output = (channels: number, level: number) => {
    activationsPerPixel += channels / 4 ** level;
  };
  const doubleConv = (inChannels: number, filters: number, level: number, mid = filters) => {
    for (const [from, to] of [[inChannels, mid], [mid, filters]] as const) {
      parameters += 9 * from * to + 4 * to; // kernel without bias; BN gamma, beta, moving mean and variance
      output(to, level); // conv
      output(to, level); // batch norm
      output(to, level); // ReLU
    }
  };
  const widths = [b, 2 * b, 4 * b, 8 * b, (16 * b) / factor];
  doubleConv(config.inputChannels, widths[0]!, 0);
  for (let level = 1; level <= 4; level++) {
    output(widths[level - 1]!, level); // max-pooling
    doubleConv(widths[level - 1]!, widths[level]!, level);
  }
  let channels = widths[4]!;
  for (let level = 3; level >= 0; level--) {
    const skip = widths[level]!;
    const filters = (skip * (level === 0 ? factor : 1)) / factor;
    let upChannels = channels;
    let mid = filters;
    if (config.upsampling === 'bilinear') {
      mid = (channels + skip) / 2;
    } else {
      upChannels = channels / 2;
      parameters += 4 * channels * upChannels + upChannels; // 2x2 transposed conv with bias
    }
    output(upChannels, level); // up-sampling
    output(skip + upChannels, level); // concatenation
    doubleConv(skip + upChannels, filters, level, mid);
    channels = filters;
  }
  const classes = outputChannels(config);
  parameters += channels * classes + classes;
  output(classes, 0);
  return { parameters, activationsPerPixel };
}
