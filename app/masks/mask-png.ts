import sharp from 'sharp';
import { AppError } from '../contract/errors.js';
import { DEFAULT_MAX_PIXELS } from '../imaging/pixel-limit.js';
import { probeImage, readRaster } from '../imaging/read-image.js';
import type { LabelMap } from './label-map.js';
import { asMaskErrors } from './mask-errors.js';

/** Stores a label map losslessly as an 8-bit single-channel greyscale PNG (pixel value = class index). */
export async function encodeMaskPng(map: LabelMap): Promise<Buffer> {
  if (map.labels.length !== map.width * map.height) {
    throw new AppError('invalid_mask', `label map has ${map.labels.length} labels but is ${map.width}x${map.height}`, {
      width: map.width,
      height: map.height,
      labels: map.labels.length,
    });
  }
  return sharp(map.labels, { raw: { width: map.width, height: map.height, channels: 1 } })
    .toColourspace('b-w')
    .png({ palette: false })
    .toBuffer();
}

/** Reads back a label map written by `encodeMaskPng`. */
export async function readMaskPng(file: string): Promise<LabelMap> {
  const options = { maxPixels: DEFAULT_MAX_PIXELS };
  const info = await asMaskErrors(probeImage(file, options));
  if (info.format !== 'png' || info.channels !== 1 || info.bitDepth !== 8) {
    throw new AppError(
      'invalid_mask',
      `${file}: not a stored label map (expected an 8-bit single-channel PNG, found ${info.bitDepth}-bit ` +
        `${info.channels}-channel ${info.format.toUpperCase()})`,
      { file, format: info.format, channels: info.channels, bitDepth: info.bitDepth },
    );
  }
  const raster = await asMaskErrors(readRaster(file, options));
  return { width: raster.width, height: raster.height, labels: raster.data as Uint8Array };
}
