import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import sharp from 'sharp';
import type { DisplayImage, ImageSamplesPayload } from '../contract/studio.js';
import { intensityRange, toDisplay8 } from '../imaging/normalise.js';
import { DEFAULT_MAX_PIXELS } from '../imaging/pixel-limit.js';
import { colourChannelCount, readRaster } from '../imaging/read-image.js';
import type { Project } from '../project/project.js';

/**
 * The image as the editor shows it: 8-bit after the display normalisation (so 16-bit data looks as
 * it does in training), alpha dropped, as a fast-to-encode PNG. It travels over the contract like
 * every other answer, so browser mode and the desktop app share one path and one access check.
 */
export async function displayImage(project: Project, id: string): Promise<DisplayImage> {
  const entry = project.image(id);
  const raster = await readRaster(await project.resolve(entry.file), { maxPixels: project.settings.maxImagePixels, page: entry.page });
  const display = toDisplay8(raster);
  const channels = colourChannelCount(raster.channels);
  const png = await encode(display, raster.width, raster.height, raster.channels, channels);
  return { mime: 'image/png', base64: png.toString('base64'), width: raster.width, height: raster.height };
}

const deflateAsync = promisify(deflate);

/**
 * The image's stored colour values, as the editor needs them for contrast limits on the full 8- or
 * 16-bit range and for the cursor readout: alpha dropped, 16-bit in the machine's byte order (little-endian
 * wherever Node and browsers run), deflated.
 */
export async function imageSamples(project: Project, id: string): Promise<ImageSamplesPayload> {
  const entry = project.image(id);
  const raster = await readRaster(await project.resolve(entry.file), { maxPixels: project.settings.maxImagePixels, page: entry.page });
  const channels = colourChannelCount(raster.channels);
  const pixelCount = raster.width * raster.height;
  const values = raster.bitDepth === 16 ? new Uint16Array(pixelCount * channels) : new Uint8Array(pixelCount * channels);
  for (let pixel = 0; pixel < pixelCount; pixel++) {
    for (let c = 0; c < channels; c++) values[pixel * channels + c] = raster.data[pixel * raster.channels + c]!;
  }
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const range = intensityRange(raster);
  const packed = await deflateAsync(bytes, { level: 1 });
  return { width: raster.width, height: raster.height, channels, bitDepth: raster.bitDepth, encoding: 'deflate', base64: packed.toString('base64'), displayLow: range.low, displayHigh: range.high };
}

async function encode(pixels: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4, colour: 1 | 3): Promise<Buffer> {
  let image = sharp(pixels, { raw: { width, height, channels }, limitInputPixels: false });
  if (colour !== channels) image = image.removeAlpha();
  // Level 1: large images encode several times faster for a slightly bigger file, which is what a viewer needs.
  return image.png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer();
}

/** A WebP preview of any image file (segmentation outputs), with the display normalisation. */
export async function previewImage(file: string, maxSide: number): Promise<Buffer> {
  const raster = await readRaster(file, { maxPixels: DEFAULT_MAX_PIXELS });
  const channels = colourChannelCount(raster.channels);
  let image = sharp(toDisplay8(raster), { raw: { width: raster.width, height: raster.height, channels: raster.channels }, limitInputPixels: false });
  if (channels !== raster.channels) image = image.removeAlpha();
  return image.resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true }).webp().toBuffer();
}
