import type { ModelDescription, ResizeRule } from '../contract/segmentation.js';
import type { InputSizing } from '../contract/training.js';
import { prepareImage } from '../engine/data/load-samples.js';
import { normaliserFor } from '../imaging/normalise.js';
import { colourChannelCount, type RasterImage } from '../imaging/read-image.js';
import { applyModelNormalisation } from './model-normalisation.js';
import { modelInputSize, prepareResized } from './resize-rule.js';

/** An image ready for the model, read region by region at model resolution. */
export interface ImageSource {
  /** The image's own size (outputs have it). */
  width: number;
  height: number;
  /** The size the model sees (after the sizing rule). */
  sizedWidth: number;
  sizedHeight: number;
  channels: 1 | 3;
  /** Model input for a region of the sized image, interleaved (channel fastest). */
  region(x: number, y: number, width: number, height: number): Float32Array;
  /** One row of the image as 8-bit RGB for overlays (the display rule = the normalisation rule). */
  displayRow(y: number): Uint8Array;
}

/**
 * Wraps a decoded raster (8/16-bit, decoded once). At scale 1 regions are prepared on demand with
 * `prepareImage` and the normalisation fitted on the whole image, so no float copy of the whole image
 * is ever made; with a resize the sized image is prepared once, on first use (it is smaller than the
 * original), by the model's resize rule.
 */
export function imageSource(raster: RasterImage, model: Pick<ModelDescription, 'inputChannels' | 'normalisation'>, sizing: InputSizing, rule: ResizeRule): ImageSource {
  const channels = model.inputChannels;
  const normalise = normaliserFor(raster);
  const sized = modelInputSize(raster.width, raster.height, sizing, rule);
  const identity = sized.width === raster.width && sized.height === raster.height;
  const unitSizing: InputSizing = { mode: 'scale', scale: 1 };
  let resized: Float32Array | null = null;

  return {
    width: raster.width,
    height: raster.height,
    sizedWidth: sized.width,
    sizedHeight: sized.height,
    channels,
    region(x, y, width, height) {
      if (!identity) resized ??= prepareResized(raster, channels, sizing, rule, normalise);
      const values = resized
        ? cropInterleaved(resized, sized.width, channels, x, y, width, height)
        : prepareImage(cropRaster(raster, x, y, width, height), channels, unitSizing, normalise).image;
      return applyModelNormalisation(values, channels, model.normalisation);
    },
    displayRow(y) {
      const row = normalise(cropRaster(raster, 0, y, raster.width, 1));
      const colour = colourChannelCount(raster.channels);
      const rgb = new Uint8Array(raster.width * 3);
      for (let x = 0; x < raster.width; x++) {
        for (let c = 0; c < 3; c++) rgb[3 * x + c] = Math.round(255 * row[x * raster.channels + (colour === 3 ? c : 0)]!);
      }
      return rgb;
    },
  };
}

/**
 * A part of an image source (`rect` in image pixels) as a source of its own: regions and rows come
 * from the whole image's, so they are normalised as the whole image is.
 */
export function imageRegionSource(source: ImageSource, rect: { x: number; y: number; width: number; height: number }): ImageSource {
  const toSized = (value: number, size: number, sized: number) => Math.round((value * sized) / size);
  const left = toSized(rect.x, source.width, source.sizedWidth);
  const top = toSized(rect.y, source.height, source.sizedHeight);
  return {
    width: rect.width,
    height: rect.height,
    sizedWidth: Math.max(1, toSized(rect.x + rect.width, source.width, source.sizedWidth) - left),
    sizedHeight: Math.max(1, toSized(rect.y + rect.height, source.height, source.sizedHeight) - top),
    channels: source.channels,
    region: (x, y, width, height) => source.region(left + x, top + y, width, height),
    displayRow: (y) => source.displayRow(rect.y + y).subarray(rect.x * 3, (rect.x + rect.width) * 3),
  };
}

export function cropRaster(raster: RasterImage, x: number, y: number, width: number, height: number): RasterImage {
  if (x === 0 && y === 0 && width === raster.width && height === raster.height) return raster;
  const { channels } = raster;
  const data = new (raster.data.constructor as new (length: number) => Uint8Array | Uint16Array)(width * height * channels);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * raster.width + x) * channels;
    data.set(raster.data.subarray(from, from + width * channels), row * width * channels);
  }
  return { width, height, channels, bitDepth: raster.bitDepth, data };
}

function cropInterleaved(image: Float32Array, imageWidth: number, channels: number, x: number, y: number, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height * channels);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * imageWidth + x) * channels;
    out.set(image.subarray(from, from + width * channels), row * width * channels);
  }
  return out;
}
