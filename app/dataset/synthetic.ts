import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { AppError } from '../contract/errors.js';
import { encodeMaskPng } from '../masks/mask-png.js';
import { deriveSeed } from '../random/prng.js';
import { renderSyntheticSample } from './synthetic/render.js';
import { makeFolder } from '../files/make-folder.js';

export { renderSyntheticSample, type SyntheticSample } from './synthetic/render.js';

export type SyntheticFormat = 'png' | 'jpeg' | 'tiff' | 'webp' | 'gif';

export interface SyntheticOptions {
  outDir: string;
  count: number;
  width?: number;
  height?: number;
  seed?: number;
  classes?: 2 | 3;
  format?: SyntheticFormat;
  bitDepth?: 8 | 16;
  channels?: 1 | 3;
  maskSuffix?: string;
}

export interface SyntheticResult {
  imagesDir: string;
  masksDir: string;
  images: string[];
  masks: string[];
}

const FILE_EXTENSION: Record<SyntheticFormat, string> = { png: 'png', jpeg: 'jpg', tiff: 'tif', webp: 'webp', gif: 'gif' };

/** 16-bit images use a 12-bit-camera-like range so that the percentile normalisation matters. */
const SIXTEEN_BIT_BLACK = 300;
const SIXTEEN_BIT_WHITE = 3500;

/** Per-channel gains for RGB output: a faint stain-like tint rather than plain grey. */
const RGB_TINT = [1, 0.82, 0.92];

/**
 * Writes `count` deterministic microscopy-like images with exact masks:
 * outDir/images/cell_000.<ext> and outDir/masks/cell_000<maskSuffix>.png. The same options always
 * give byte-identical files.
 */
export async function generateSynthetic(opts: SyntheticOptions): Promise<SyntheticResult> {
  const width = opts.width ?? 128;
  const height = opts.height ?? 128;
  const seed = opts.seed ?? 1;
  const classes = opts.classes ?? 2;
  const format = opts.format ?? 'png';
  const bitDepth = opts.bitDepth ?? 8;
  const channels = opts.channels ?? 1;
  const maskSuffix = opts.maskSuffix ?? '';
  assertValidOptions(opts.count, width, height, format, bitDepth);

  const imagesDir = path.join(opts.outDir, 'images');
  const masksDir = path.join(opts.outDir, 'masks');
  await makeFolder(imagesDir);
  await makeFolder(masksDir);

  const digits = Math.max(3, String(opts.count - 1).length);
  const result: SyntheticResult = { imagesDir, masksDir, images: [], masks: [] };
  for (let index = 0; index < opts.count; index++) {
    const name = `cell_${String(index).padStart(digits, '0')}`;
    const sample = renderSyntheticSample(deriveSeed(seed, index), width, height, classes);
    const imageFile = path.join(imagesDir, `${name}.${FILE_EXTENSION[format]}`);
    const maskFile = path.join(masksDir, `${name}${maskSuffix}.png`);
    await encodeImage(sample.image, width, height, channels, bitDepth, format).toFile(imageFile);
    await writeFile(maskFile, await encodeMaskPng({ width, height, labels: sample.labels }));
    result.images.push(imageFile);
    result.masks.push(maskFile);
  }
  return result;
}

function assertValidOptions(count: number, width: number, height: number, format: SyntheticFormat, bitDepth: 8 | 16): void {
  if (!Number.isInteger(count) || count < 1) throw invalid(`count must be a positive whole number, not ${count}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16) {
    throw invalid(`image size must be whole numbers of at least 16x16, not ${width}x${height}`);
  }
  if (bitDepth === 16 && format !== 'png' && format !== 'tiff') {
    throw invalid(`16-bit images can be written as PNG or TIFF only, not ${format.toUpperCase()}`);
  }
}

function invalid(message: string): AppError {
  return new AppError('invalid_input', `synthetic data: ${message}`);
}

function encodeImage(
  intensity: Float32Array,
  width: number,
  height: number,
  channels: 1 | 3,
  bitDepth: 8 | 16,
  format: SyntheticFormat,
): Sharp {
  const [black, white] = bitDepth === 16 ? [SIXTEEN_BIT_BLACK, SIXTEEN_BIT_WHITE] : [0, 255];
  const pixels = bitDepth === 16 ? new Uint16Array(intensity.length * channels) : new Uint8Array(intensity.length * channels);
  for (let p = 0; p < intensity.length; p++) {
    for (let c = 0; c < channels; c++) {
      const gain = channels === 3 ? RGB_TINT[c] : 1;
      pixels[p * channels + c] = Math.round(black + (white - black) * intensity[p] * gain);
    }
  }
  // Raw input must be tagged with its colourspace, or sharp writes 8-bit sRGB whatever the data.
  const colourspace = channels === 1 ? (bitDepth === 16 ? 'grey16' : 'b-w') : bitDepth === 16 ? 'rgb16' : 'srgb';
  const image = sharp(pixels, { raw: { width, height, channels } }).toColourspace(colourspace);
  switch (format) {
    case 'png':
      return image.png();
    case 'jpeg':
      return image.jpeg({ quality: 92 });
    case 'tiff':
      // sharp's TIFF default is JPEG compression, which is lossy and 8-bit only.
      return image.tiff({ compression: 'lzw' });
    case 'webp':
      return image.webp({ quality: 92 });
    case 'gif':
      return image.gif();
  }
}
