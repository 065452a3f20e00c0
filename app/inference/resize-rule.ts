import type { ResizeRule } from '../contract/segmentation.js';
import type { InputSizing } from '../contract/training.js';
import { prepareImage, sizedDimensions } from '../engine/data/load-samples.js';
import { pilBicubic8, pilBicubicFloat } from '../imaging/pil-resample.js';
import type { RasterImage } from '../imaging/read-image.js';

const AS_IS: InputSizing = { mode: 'scale', scale: 1 };

/**
 * The size an image is segmented at. The reference tools truncate (`int(scale * width)`), U-Net
 * Studio rounds, as it trains.
 */
export function modelInputSize(width: number, height: number, sizing: InputSizing, rule: ResizeRule): { width: number; height: number } {
  if (rule === 'reference' && sizing.mode === 'scale') return { width: Math.max(1, Math.floor(width * sizing.scale)), height: Math.max(1, Math.floor(height * sizing.scale)) };
  return sizedDimensions(width, height, sizing);
}

/**
 * The whole image prepared for the model at `size`, interleaved: normalised, in the model's channels
 * and resized by the rule. The reference resizes the stored 8-bit samples with Pillow's bicubic
 * filter and then divides by 255; 16-bit images (which the reference tools do not read as such) get
 * the same filter in floating point on the normalised intensities.
 */
export function prepareResized(
  raster: RasterImage,
  channels: 1 | 3,
  sizing: InputSizing,
  rule: ResizeRule,
  normalise: (raster: RasterImage) => Float32Array,
): Float32Array {
  if (rule === 'studio') return prepareImage(raster, channels, sizing, normalise).image;
  const size = modelInputSize(raster.width, raster.height, sizing, rule);
  if (raster.bitDepth === 8) {
    const resized = pilBicubic8(raster.data as Uint8Array, raster.width, raster.height, raster.channels, size.width, size.height);
    return prepareImage({ ...raster, ...size, data: resized }, channels, AS_IS, normalise).image;
  }
  const normalised = prepareImage(raster, channels, AS_IS, normalise).image;
  return pilBicubicFloat(normalised, raster.width, raster.height, channels, size.width, size.height);
}
