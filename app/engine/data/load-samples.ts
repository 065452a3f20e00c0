import { AppError } from '../../contract/errors.js';
import type { ImageEntry } from '../../contract/schemas.js';
import type { InputSizing } from '../../contract/training.js';
import { normalisedFloat } from '../../imaging/normalise.js';
import { colourChannelCount, readRaster, type RasterImage } from '../../imaging/read-image.js';
import type { LabelMap } from '../../masks/label-map.js';
import { readMaskPng } from '../../masks/mask-png.js';
import type { Project } from '../../project/project.js';
import { resizeBilinear, resizeNearest } from './resize.js';
import type { TrainingSample } from './training-sample.js';

/** The size an image is trained and segmented at, from the run's sizing rule. */
export function sizedDimensions(width: number, height: number, sizing: InputSizing): { width: number; height: number } {
  if (sizing.mode === 'size') return { width: sizing.width, height: sizing.height };
  return { width: Math.max(1, Math.round(width * sizing.scale)), height: Math.max(1, Math.round(height * sizing.scale)) };
}

/**
 * Decodes, normalises (the documented 8/16-bit rule) and resizes one image to the model's channels.
 * Shared by training and inference so both see exactly the same input. `normalise` lets inference
 * prepare a crop with the rule fitted on the whole image (`normaliserFor`).
 */
export function prepareImage(
  raster: RasterImage,
  channels: 1 | 3,
  sizing: InputSizing,
  normalise: (raster: RasterImage) => Float32Array = normalisedFloat,
): { image: Float32Array; width: number; height: number } {
  const normalised = toChannels(normalise(raster), raster.channels, channels);
  const size = sizedDimensions(raster.width, raster.height, sizing);
  return { image: resizeBilinear(normalised, raster.width, raster.height, channels, size.width, size.height), ...size };
}

/** Where one labelled image and its mask are on disk: all a thread needs to read it. */
export interface SampleFile {
  id: string;
  image: string;
  mask: string;
  page: number;
}

/** How training images are prepared: the model's channels, the run's sizing, the project's pixel limit. */
export interface SampleFormat {
  channels: 1 | 3;
  sizing: InputSizing;
  maxPixels: number;
}

/** The files of labelled project images (entries without a mask are left out). */
export async function sampleFiles(project: Project, entries: readonly ImageEntry[]): Promise<SampleFile[]> {
  const labelled = entries.filter((entry) => entry.mask !== null);
  return Promise.all(labelled.map(async (entry) => ({ id: entry.id, image: await project.resolve(entry.file), mask: await project.resolve(entry.mask!), page: entry.page })));
}

/** Decodes an image and its mask at their own size; a mask of another size is refused, naming both files. */
export async function readLabelledImage(file: SampleFile, maxPixels: number): Promise<{ raster: RasterImage; mask: LabelMap }> {
  const [raster, mask] = await Promise.all([readRaster(file.image, { maxPixels, page: file.page }), readMaskPng(file.mask)]);
  if (mask.width !== raster.width || mask.height !== raster.height) {
    throw new AppError('invalid_mask', `${file.mask}: the mask is ${mask.width}x${mask.height} but its image ${file.image} is ${raster.width}x${raster.height}.`, { file: file.mask });
  }
  return { raster, mask };
}

/** Reads one labelled image at training resolution. */
export async function readTrainingSample(file: SampleFile, format: SampleFormat): Promise<TrainingSample> {
  const { raster, mask } = await readLabelledImage(file, format.maxPixels);
  const { image, width, height } = prepareImage(raster, format.channels, format.sizing);
  return { id: file.id, width, height, channels: format.channels, image, labels: resizeNearest(mask.labels, mask.width, mask.height, width, height) };
}

/** Grey models take the luma of colour images; colour models repeat a grey channel. Alpha is dropped. */
function toChannels(data: Float32Array, sourceChannels: RasterImage['channels'], channels: 1 | 3): Float32Array {
  if (sourceChannels === channels) return data;
  const colour = colourChannelCount(sourceChannels);
  const pixels = data.length / sourceChannels;
  const out = new Float32Array(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    const base = p * sourceChannels;
    if (colour === 1) {
      for (let c = 0; c < channels; c++) out[p * channels + c] = data[base]!;
    } else if (channels === 3) {
      out[p * 3] = data[base]!;
      out[p * 3 + 1] = data[base + 1]!;
      out[p * 3 + 2] = data[base + 2]!;
    } else {
      out[p] = 0.299 * data[base]! + 0.587 * data[base + 1]! + 0.114 * data[base + 2]!;
    }
  }
  return out;
}
