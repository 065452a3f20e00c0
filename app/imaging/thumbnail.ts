import { rename, rm } from 'node:fs/promises';
import sharp from 'sharp';
import { AppError } from '../contract/errors.js';
import { toDisplay8 } from './normalise.js';
import { colourChannelCount, type RasterImage } from './read-image.js';
import { temporaryFile } from '../files/temp-files.js';

/** The dataset grid's previews (images and masks) are at most this many pixels on a side. */
export const THUMBNAIL_SIDE = 256;

/**
 * Writes a WebP preview no larger than maxSide on either side (never upscaled, aspect kept), using
 * the display normalisation and dropping alpha. Written beside the target and renamed into place,
 * so a crash never leaves a half-written thumbnail.
 */
export async function writeThumbnail(raster: RasterImage, outFile: string, maxSide = THUMBNAIL_SIDE): Promise<void> {
  const display = withoutAlpha(toDisplay8(raster), raster.channels);
  const channels = colourChannelCount(raster.channels);
  const tempFile = temporaryFile(outFile);
  try {
    await sharp(display, { raw: { width: raster.width, height: raster.height, channels } })
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .webp()
      .toFile(tempFile);
    await rename(tempFile, outFile);
  } catch (err) {
    await rm(tempFile, { force: true });
    throw new AppError('io_error', `${outFile}: cannot write thumbnail (${(err as Error).message})`, { file: outFile });
  }
}

function withoutAlpha(pixels: Uint8Array, channels: RasterImage['channels']): Uint8Array {
  const colourChannels = colourChannelCount(channels);
  if (colourChannels === channels) return pixels;
  const out = new Uint8Array((pixels.length / channels) * colourChannels);
  for (let src = 0, dst = 0; src < pixels.length; src += channels) {
    for (let c = 0; c < colourChannels; c++) out[dst++] = pixels[src + c];
  }
  return out;
}
