import { open } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp';
import { AppError } from '../contract/errors.js';
import { fsPath, hasEscapedBytes } from '../files/file-name.js';
import { DATA_FILE, checkRegularFile, readRegularFile } from '../files/regular-file.js';
import { imageDecodes } from './decode-gate.js';
import type { ImageInfo } from './image-info.js';
import { assertWithinPixelLimit } from './pixel-limit.js';

/** Decoded pixels, interleaved (channel varies fastest). 16-bit images stay 16-bit. */
export interface RasterImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  bitDepth: 8 | 16;
  data: Uint8Array | Uint16Array;
}

export { colourChannelCount } from '../contract/schemas.js';

export interface ReadImageOptions {
  maxPixels: number;
}

const SUPPORTED_FORMATS = new Set(['png', 'jpeg', 'tiff', 'gif', 'webp']);
const SUPPORTED_LIST = 'PNG, JPEG, TIFF, GIF, WebP';

const IMAGE_FILE = { ...DATA_FILE, errorCode: 'invalid_image' } as const;

/**
 * Reads the header only: format, size, channels, bit depth and page count. The size, channels and
 * depth are those of `page` (default 0): the pages of a TIFF may differ (a grey page, then an RGB one).
 */
export async function probeImage(file: string, opts: ReadImageOptions & { page?: number }): Promise<ImageInfo> {
  const input = await sharpInput(file);
  const page = opts.page ?? 0;
  // The pixel limit is checked below with a clearer message than sharp's; a header read is cheap.
  const header = (options: SharpOptions) => imageDecodes.run(() => sharp(input, { limitInputPixels: false, ...options }).metadata());
  let metadata: Metadata;
  try {
    metadata = await header({});
    const pages = metadata.pages ?? 1;
    if (!Number.isInteger(page) || page < 0 || page >= pages) {
      throw new AppError('invalid_image', `${file}: has ${pages} page(s), so page ${page} does not exist`, { file, page, pages });
    }
    if (page > 0) metadata = { ...(await header({ page })), pages };
  } catch (err) {
    throw await headerError(file, err);
  }
  const info = toImageInfo(file, metadata);
  assertWithinPixelLimit(file, info.width, info.height, opts.maxPixels);
  return info;
}

/** What sharp reads: the path, or the file's bytes when its name is not valid UTF-8 (libvips could not open it by name). */
async function sharpInput(file: string): Promise<string | Buffer> {
  if (hasEscapedBytes(file)) return readRegularFile(file, IMAGE_FILE);
  await checkRegularFile(file, IMAGE_FILE);
  return file;
}

/**
 * Decodes one page (default 0) at its stored bit depth. Palette images decode to their RGB(A)
 * colours; embedded ICC profiles are ignored so the values are the ones stored in the file.
 */
export async function readRaster(file: string, opts: ReadImageOptions & { page?: number }): Promise<RasterImage> {
  const info = await probeImage(file, opts);
  const page = opts.page ?? 0;
  const input = await sharpInput(file);

  const is16Bit = info.bitDepth === 16;
  // sharp's raw output of an 8-bit greyscale image keeps band 0 only, dropping alpha, so grey+alpha
  // is decoded as RGBA and collapsed back to two channels below.
  const decodeAsGrey = info.channels === 1;
  const colourspace = decodeAsGrey ? (is16Bit ? 'grey16' : 'b-w') : is16Bit ? 'rgb16' : 'srgb';

  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await imageDecodes.run(() =>
      sharp(input, { failOn: 'warning', limitInputPixels: opts.maxPixels, page, ignoreIcc: true })
        .toColourspace(colourspace)
        .raw({ depth: is16Bit ? 'ushort' : 'uchar' })
        .toBuffer({ resolveWithObject: true }),
    );
  } catch (err) {
    throw new AppError(
      'invalid_image',
      `${file}: truncated or corrupt ${info.format.toUpperCase()} (libvips: ${sharpMessage(err)})`,
      { file, format: info.format },
    );
  }

  const samples = is16Bit ? asUint16(decoded.data) : new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length);
  const data = info.channels === 2 ? greyAlphaFromRgba(samples) : samples;
  return { width: decoded.info.width, height: decoded.info.height, channels: info.channels, bitDepth: info.bitDepth, data };
}

function toImageInfo(file: string, metadata: Metadata): ImageInfo {
  const format = metadata.format ?? 'unknown';
  if (!SUPPORTED_FORMATS.has(format)) {
    throw new AppError('invalid_image', `${file}: ${format.toUpperCase()} images are not supported (supported: ${SUPPORTED_LIST})`, {
      file,
      format,
    });
  }
  if (metadata.depth !== 'uchar' && metadata.depth !== 'ushort') {
    throw new AppError(
      'invalid_image',
      `${file}: pixel type '${metadata.depth}' is not supported; save the image as 8-bit or 16-bit integer`,
      { file, format, depth: metadata.depth },
    );
  }
  if (metadata.space === 'multiband') {
    throw new AppError(
      'invalid_image',
      `${file}: ${metadata.channels}-channel multiband images are not supported; save as greyscale or RGB`,
      { file, format, channels: metadata.channels },
    );
  }
  const isGrey = metadata.space === 'b-w' || metadata.space === 'grey16';
  const channels = ((isGrey ? 1 : 3) + (metadata.hasAlpha ? 1 : 0)) as ImageInfo['channels'];
  return {
    format,
    width: metadata.width,
    height: metadata.height,
    channels,
    bitDepth: metadata.depth === 'ushort' ? 16 : 8,
    pages: metadata.pages ?? 1,
  };
}

async function headerError(file: string, err: unknown): Promise<AppError> {
  if (err instanceof AppError) return err;
  const message = sharpMessage(err);
  if (/unsupported image format/i.test(message)) {
    if (await startsWithBmpMagic(file)) {
      return new AppError('invalid_image', `${file}: BMP images are not supported; convert the file to PNG`, {
        file,
        format: 'bmp',
      });
    }
    return new AppError('invalid_image', `${file}: not an image sharp can read (supported: ${SUPPORTED_LIST})`, { file });
  }
  if (/input file is missing/i.test(message)) return new AppError('not_found', `${file}: file not found`, { file });
  return new AppError('invalid_image', `${file}: corrupt or unreadable image header (libvips: ${message})`, { file });
}

/** The prebuilt libvips in sharp has no BMP loader, so BMP is named explicitly rather than "unknown". */
async function startsWithBmpMagic(file: string): Promise<boolean> {
  const handle = await open(fsPath(file), 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer.toString('latin1') === 'BM';
  } finally {
    await handle.close();
  }
}

function sharpMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).trim();
}

/** Views the buffer as 16-bit samples (native byte order), copying only if it is misaligned. */
function asUint16(buffer: Buffer): Uint16Array {
  if (buffer.byteOffset % 2 === 0) return new Uint16Array(buffer.buffer, buffer.byteOffset, buffer.length / 2);
  const aligned = new Uint8Array(buffer.length);
  aligned.set(buffer);
  return new Uint16Array(aligned.buffer);
}

function greyAlphaFromRgba<T extends Uint8Array | Uint16Array>(rgba: T): T {
  const pixels = rgba.length / 4;
  const greyAlpha = new (rgba.constructor as new (length: number) => T)(pixels * 2);
  for (let i = 0; i < pixels; i++) {
    greyAlpha[2 * i] = rgba[4 * i];
    greyAlpha[2 * i + 1] = rgba[4 * i + 3];
  }
  return greyAlpha;
}
