import type { Normalisation } from '../contract/segmentation.js';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/**
 * Maps intensities already in [0, 1] (the documented 8/16-bit rule) to what the model was trained on,
 * in place. Interleaved layout (channel fastest), `channels` 1 or 3.
 */
export function applyModelNormalisation(values: Float32Array, channels: number, normalisation: Normalisation): Float32Array {
  switch (normalisation) {
    case 'unit':
      return values;
    case 'symmetric':
      for (let i = 0; i < values.length; i++) values[i] = 2 * values[i]! - 1;
      return values;
    case 'raw255':
      for (let i = 0; i < values.length; i++) values[i] = 255 * values[i]!;
      return values;
    case 'imagenet':
      for (let i = 0; i < values.length; i++) {
        // Grey models use the mean of the three channel statistics.
        const c = channels === 3 ? i % 3 : -1;
        const mean = c < 0 ? 0.449 : IMAGENET_MEAN[c]!;
        const std = c < 0 ? 0.226 : IMAGENET_STD[c]!;
        values[i] = (values[i]! - mean) / std;
      }
      return values;
  }
}
