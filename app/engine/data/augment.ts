import type { Augmentation } from '../../contract/training.js';
import { IGNORE_LABEL } from '../../contract/schemas.js';
import type { Random } from '../../random/prng.js';
import type { TrainingSample } from './training-sample.js';

/** A view of a sample at a given output size: where its centre falls and how it is turned and scaled. */
interface Placement {
  outWidth: number;
  outHeight: number;
  /** Input coordinates that land on the output centre. */
  centreX: number;
  centreY: number;
  /** Inverse linear map from output offsets to input offsets (2x2, row-major). */
  matrix: [number, number, number, number];
}

/**
 * Cuts one training view from a sample: a random crop of `size` (or the whole image), with random
 * flips, 90-degree turns, zoom and small rotations applied as a single affine warp. The image is
 * sampled bilinearly and the labels nearest-neighbour with the same geometry; pixels that come from
 * outside the image get intensity 0 and label 255 (ignored by the loss). Then brightness, contrast
 * and noise change the intensities only.
 */
export function augmentedView(sample: TrainingSample, augmentation: Augmentation, random: Random, size: { width: number; height: number } | null): TrainingSample {
  const outWidth = size?.width ?? sample.width;
  const outHeight = size?.height ?? sample.height;
  const placement: Placement = {
    outWidth,
    outHeight,
    centreX: size ? random.range(Math.min(outWidth / 2, sample.width / 2), Math.max(sample.width - outWidth / 2, sample.width / 2)) : sample.width / 2,
    centreY: size ? random.range(Math.min(outHeight / 2, sample.height / 2), Math.max(sample.height - outHeight / 2, sample.height / 2)) : sample.height / 2,
    matrix: randomGeometry(augmentation, random, outWidth === outHeight),
  };
  const view = warp(sample, placement);
  adjustIntensities(view.image, augmentation, random);
  return view;
}

function randomGeometry(augmentation: Augmentation, random: Random, square: boolean): Placement['matrix'] {
  let m: Placement['matrix'] = [1, 0, 0, 1];
  const compose = (a: number, b: number, c: number, d: number) => {
    m = [m[0] * a + m[1] * c, m[0] * b + m[1] * d, m[2] * a + m[3] * c, m[2] * b + m[3] * d];
  };
  if (augmentation.flips) {
    if (random.next() < 0.5) compose(-1, 0, 0, 1);
    if (random.next() < 0.5) compose(1, 0, 0, -1);
  }
  // Quarter turns swap width and height, so non-square views only get half turns.
  if (augmentation.rotate90) {
    const turns = square ? Math.floor(random.next() * 4) : Math.floor(random.next() * 2) * 2;
    for (let t = 0; t < turns; t++) compose(0, -1, 1, 0);
  }
  const [low, high] = augmentation.scale;
  if (low !== 1 || high !== 1) {
    // Log-uniform zoom, so 0.8 and 1.25 are equally likely.
    const zoom = Math.exp(random.range(Math.log(low), Math.log(high)));
    compose(1 / zoom, 0, 0, 1 / zoom);
  }
  if (augmentation.rotateDegrees > 0) {
    const angle = (random.range(-augmentation.rotateDegrees, augmentation.rotateDegrees) * Math.PI) / 180;
    compose(Math.cos(angle), -Math.sin(angle), Math.sin(angle), Math.cos(angle));
  }
  return m;
}

function warp(sample: TrainingSample, placement: Placement): TrainingSample {
  const { outWidth, outHeight, centreX, centreY, matrix } = placement;
  const { width, height, channels } = sample;
  const image = new Float32Array(outWidth * outHeight * channels);
  const labels = new Uint8Array(outWidth * outHeight).fill(IGNORE_LABEL);
  const [a, b, c, d] = matrix;
  for (let y = 0; y < outHeight; y++) {
    const dy = y + 0.5 - outHeight / 2;
    for (let x = 0; x < outWidth; x++) {
      const dx = x + 0.5 - outWidth / 2;
      // Input position of this output pixel's centre, in pixel-index coordinates.
      const sx = centreX + a * dx + b * dy - 0.5;
      const sy = centreY + c * dx + d * dy - 0.5;
      const nearestX = Math.round(sx);
      const nearestY = Math.round(sy);
      if (nearestX < 0 || nearestY < 0 || nearestX >= width || nearestY >= height) continue;
      const out = y * outWidth + x;
      labels[out] = sample.labels[nearestY * width + nearestX]!;
      const x0 = Math.max(0, Math.min(width - 1, Math.floor(sx)));
      const y0 = Math.max(0, Math.min(height - 1, Math.floor(sy)));
      const x1 = Math.min(width - 1, x0 + 1);
      const y1 = Math.min(height - 1, y0 + 1);
      const wx = Math.max(0, Math.min(1, sx - x0));
      const wy = Math.max(0, Math.min(1, sy - y0));
      for (let ch = 0; ch < channels; ch++) {
        const top = sample.image[(y0 * width + x0) * channels + ch]! * (1 - wx) + sample.image[(y0 * width + x1) * channels + ch]! * wx;
        const bottom = sample.image[(y1 * width + x0) * channels + ch]! * (1 - wx) + sample.image[(y1 * width + x1) * channels + ch]! * wx;
        image[out * channels + ch] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return { id: sample.id, width: outWidth, height: outHeight, channels, image, labels };
}

function adjustIntensities(image: Float32Array, augmentation: Augmentation, random: Random): void {
  const { brightness, contrast, noise } = augmentation;
  if (brightness === 0 && contrast === 0 && noise === 0) return;
  const shift = random.range(-brightness, brightness);
  const gain = 1 + random.range(-contrast, contrast);
  let mean = 0;
  for (const value of image) mean += value;
  mean /= image.length || 1;
  for (let i = 0; i < image.length; i++) {
    const value = (image[i]! - mean) * gain + mean + shift + (noise > 0 ? random.normal() * noise : 0);
    image[i] = Math.min(1, Math.max(0, value));
  }
}
