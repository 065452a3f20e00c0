import sharp from 'sharp';
import { type ClassDef, IGNORE_LABEL } from '../../contract/schemas.js';
import type { TrainingSample } from '../data/training-sample.js';

export interface ValidationPicture {
  sample: TrainingSample;
  predicted: Uint8Array;
}

const IGNORE_COLOUR = [128, 128, 128];

/**
 * Renders a few validation images for the training monitor: one row per image with the image, the
 * true mask and the predicted mask side by side (ignored pixels grey).
 */
export async function renderValidationPictures(pictures: readonly ValidationPicture[], classes: readonly ClassDef[], file: string): Promise<void> {
  if (pictures.length === 0) return;
  const palette = classes.map((cls) => [1, 3, 5].map((offset) => Number.parseInt(cls.color.slice(offset, offset + 2), 16)));
  const cellWidth = Math.max(...pictures.map((picture) => picture.sample.width));
  const cellHeight = Math.max(...pictures.map((picture) => picture.sample.height));
  const width = cellWidth * 3;
  const height = cellHeight * pictures.length;
  const canvas = new Uint8Array(width * height * 3);
  pictures.forEach(({ sample, predicted }, row) => {
    for (let y = 0; y < sample.height; y++) {
      for (let x = 0; x < sample.width; x++) {
        const pixel = y * sample.width + x;
        const grey = Math.round(255 * (sample.channels === 1 ? sample.image[pixel]! : (sample.image[pixel * 3]! + sample.image[pixel * 3 + 1]! + sample.image[pixel * 3 + 2]!) / 3));
        const truth = sample.labels[pixel]!;
        const cells = [[grey, grey, grey], truth === IGNORE_LABEL ? IGNORE_COLOUR : palette[truth] ?? IGNORE_COLOUR, palette[predicted[pixel]!] ?? IGNORE_COLOUR];
        cells.forEach((colour, column) => canvas.set(colour!, (((row * cellHeight + y) * width) + column * cellWidth + x) * 3));
      }
    }
  });
  await sharp(canvas, { raw: { width, height, channels: 3 } }).png().toFile(file);
}
