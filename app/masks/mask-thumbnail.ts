import sharp from 'sharp';
import { THUMBNAIL_SIDE } from '../imaging/thumbnail.js';
import type { LabelMap } from './label-map.js';

/**
 * A label map shrunk to fit `maxSide` (aspect kept, never enlarged) by nearest-neighbour sampling,
 * so every pixel is still a class id: the same fit as the image's thumbnail, so one lies over the other.
 */
export async function shrinkLabelMap(map: LabelMap, maxSide = THUMBNAIL_SIDE): Promise<LabelMap> {
  const { data, info } = await sharp(map.labels, { raw: { width: map.width, height: map.height, channels: 1 }, limitInputPixels: false })
    .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true, kernel: 'nearest' })
    .toColourspace('b-w') // stays one channel (sharp would otherwise widen it to sRGB)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, labels: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
