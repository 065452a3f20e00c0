import { AppError } from '../contract/errors.js';

/** sharp's own default limit (16383 x 16383). */
export const DEFAULT_MAX_PIXELS = 268_402_689;

/**
 * Guards against decompression bombs: a few kilobytes of PNG can claim gigapixels. Call it with the
 * dimensions from the header, before decoding anything.
 */
export function assertWithinPixelLimit(file: string, width: number, height: number, maxPixels: number): void {
  const pixels = width * height;
  if (pixels <= maxPixels) return;
  throw new AppError(
    'invalid_image',
    `${file}: ${width}x${height} (${describePixelCount(pixels)}) is over the pixel limit of ${describePixelCount(maxPixels)}. ` +
      'Raise it with --max-pixels or the project setting maxImagePixels if the file is trusted.',
    { file, width, height, maxPixels },
  );
}

function describePixelCount(pixels: number): string {
  return pixels >= 1_000_000 ? `${Math.round(pixels / 1_000_000)} megapixels` : `${pixels} pixels`;
}
