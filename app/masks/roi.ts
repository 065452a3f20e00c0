import { AppError } from '../contract/errors.js';
import { colourChannelCount, readRaster } from '../imaging/read-image.js';
import { IGNORE_LABEL } from '../contract/schemas.js';
import type { LabelMap } from './label-map.js';
import { asMaskErrors } from './mask-errors.js';

/**
 * Restricts a label map to a region of interest: pixels outside it become IGNORE_LABEL, in place.
 * The ROI file may be any readable image, grey or colour; a pixel is inside when any of its colour
 * channels is nonzero (alpha is ignored).
 */
export async function applyRegionOfInterest(map: LabelMap, roiFile: string, opts: { maxPixels: number }): Promise<void> {
  const roi = await asMaskErrors(readRaster(roiFile, opts));
  if (roi.width !== map.width || roi.height !== map.height) {
    throw new AppError(
      'invalid_mask',
      `${roiFile}: region of interest is ${roi.width}x${roi.height} but its mask is ${map.width}x${map.height}`,
      { file: roiFile, width: roi.width, height: roi.height, expectedWidth: map.width, expectedHeight: map.height },
    );
  }
  const { data, channels } = roi;
  const colourChannels = colourChannelCount(channels);
  for (let p = 0, i = 0; p < map.labels.length; p++, i += channels) {
    let inside = false;
    for (let c = 0; c < colourChannels; c++) inside ||= data[i + c] !== 0;
    if (!inside) map.labels[p] = IGNORE_LABEL;
  }
}
