import sharp from 'sharp';
import { type ClassDef, IGNORE_LABEL } from '../../contract/schemas.js';
import { toDisplay8 } from '../../imaging/normalise.js';
import { colourChannelCount, type RasterImage } from '../../imaging/read-image.js';
import type { LabelMap } from '../../masks/label-map.js';

/** One validation image for the monitor, at most PICTURE_SIDE pixels a side: grey image, truth, prediction. */
export interface ValidationPicture {
  width: number;
  height: number;
  grey: Uint8Array;
  truth: Uint8Array;
  predicted: Uint8Array;
}

const IGNORE_COLOUR = [128, 128, 128];
/** Validation images are scored at full size; the picture shrinks large ones (nearest pixel) to stay light. */
const PICTURE_SIDE = 512;

/** The picture of a validation image (shown with the display rule, the normalisation rule) with its truth and prediction. */
export function validationPicture(raster: RasterImage, truth: LabelMap, predicted: LabelMap): ValidationPicture {
  const shrink = Math.max(1, Math.max(raster.width, raster.height) / PICTURE_SIDE);
  const width = Math.max(1, Math.round(raster.width / shrink));
  const height = Math.max(1, Math.round(raster.height / shrink));
  const display = toDisplay8(raster);
  const colours = colourChannelCount(raster.channels);
  const picture: ValidationPicture = { width, height, grey: new Uint8Array(width * height), truth: new Uint8Array(width * height), predicted: new Uint8Array(width * height) };
  for (let y = 0; y < height; y++) {
    const sourceY = Math.min(raster.height - 1, Math.floor(((y + 0.5) * raster.height) / height));
    for (let x = 0; x < width; x++) {
      const sourceX = Math.min(raster.width - 1, Math.floor(((x + 0.5) * raster.width) / width));
      const source = sourceY * raster.width + sourceX;
      let sum = 0;
      for (let c = 0; c < colours; c++) sum += display[source * raster.channels + c]!;
      picture.grey[y * width + x] = Math.round(sum / colours);
      picture.truth[y * width + x] = truth.labels[source]!;
      picture.predicted[y * width + x] = predicted.labels[source]!;
    }
  }
  return picture;
}

/**
 * Renders a few validation images for the training monitor: one row per image with the image, the
 * true mask and the predicted mask side by side (ignored pixels grey).
 */
export async function renderValidationPictures(pictures: readonly ValidationPicture[], classes: readonly ClassDef[], file: string): Promise<void> {
  if (pictures.length === 0) return;
  const palette = classes.map((cls) => [1, 3, 5].map((offset) => Number.parseInt(cls.color.slice(offset, offset + 2), 16)));
  const cellWidth = Math.max(...pictures.map((picture) => picture.width));
  const cellHeight = Math.max(...pictures.map((picture) => picture.height));
  const width = cellWidth * 3;
  const height = cellHeight * pictures.length;
  const canvas = new Uint8Array(width * height * 3);
  pictures.forEach((picture, row) => {
    for (let y = 0; y < picture.height; y++) {
      for (let x = 0; x < picture.width; x++) {
        const pixel = y * picture.width + x;
        const grey = picture.grey[pixel]!;
        const truth = picture.truth[pixel]!;
        const cells = [[grey, grey, grey], truth === IGNORE_LABEL ? IGNORE_COLOUR : palette[truth] ?? IGNORE_COLOUR, palette[picture.predicted[pixel]!] ?? IGNORE_COLOUR];
        cells.forEach((colour, column) => canvas.set(colour!, (((row * cellHeight + y) * width) + column * cellWidth + x) * 3));
      }
    }
  });
  await sharp(canvas, { raw: { width, height, channels: 3 } }).png().toFile(file);
}
