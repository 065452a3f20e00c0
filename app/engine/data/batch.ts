import { IGNORE_LABEL } from '../../contract/schemas.js';
import type { InputSizing } from '../../contract/training.js';
import { UNET_SIZE_MULTIPLE } from '../model/build-unet.js';
import { sizedDimensions } from './load-samples.js';
import type { TrainingSample } from './training-sample.js';

/** A batch in the layout tensors are made from: NHWC intensities and NHW labels. */
export interface Batch {
  size: number;
  height: number;
  width: number;
  channels: number;
  images: Float32Array;
  labels: Int32Array;
}

export function paddedSize(value: number): number {
  return Math.ceil(value / UNET_SIZE_MULTIPLE) * UNET_SIZE_MULTIPLE;
}

/**
 * The largest height and width a training step sees: the patch when training on crops, else the
 * largest resized image padded to a multiple of 16 (what assembleBatch makes of it).
 */
export function trainingImageSize(images: ReadonlyArray<{ width: number; height: number }>, sizing: InputSizing, patchSize: number | null): { width: number; height: number } {
  if (patchSize !== null) return { width: patchSize, height: patchSize };
  const sized = images.map((image) => sizedDimensions(image.width, image.height, sizing));
  return { width: paddedSize(Math.max(...sized.map((size) => size.width))), height: paddedSize(Math.max(...sized.map((size) => size.height))) };
}

/**
 * Stacks samples into one batch, padding each (bottom and right) to the largest size rounded up to
 * a multiple of 16. Padded pixels are labelled 255, so they change neither loss nor metrics.
 */
export function assembleBatch(samples: readonly TrainingSample[]): Batch {
  const height = paddedSize(Math.max(...samples.map((sample) => sample.height)));
  const width = paddedSize(Math.max(...samples.map((sample) => sample.width)));
  const channels = samples[0]!.channels;
  const images = new Float32Array(samples.length * height * width * channels);
  const labels = new Int32Array(samples.length * height * width).fill(IGNORE_LABEL);
  samples.forEach((sample, index) => {
    for (let y = 0; y < sample.height; y++) {
      const row = (index * height + y) * width;
      images.set(sample.image.subarray(y * sample.width * channels, (y + 1) * sample.width * channels), row * channels);
      labels.set(sample.labels.subarray(y * sample.width, (y + 1) * sample.width), row);
    }
  });
  return { size: samples.length, height, width, channels, images, labels };
}
