import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_CACHE_MIB } from '../app/contract/training.js';
import { ImportRequest } from '../app/contract/schemas.js';
import { importImages } from '../app/dataset/import-images.js';
import { renderSyntheticSample } from '../app/dataset/synthetic.js';
import { encodeMaskPng } from '../app/masks/mask-png.js';
import { Project } from '../app/project/project.js';
import { deriveSeed } from '../app/random/prng.js';
import { runNodeBench } from './bench-child.js';
import type { BenchResult } from './bench-result.js';
import type { TrainMemoryReport } from './train-memory-child.js';

const IMAGES = 300;
const SIZE = 1024;
const PIECE = 256;
const PIECES = 16;
const GOAL_MIB = 2048;
/** The run: one epoch of base 8, 256 x 256 crops, batch 4, at full size (the worst case for the cache). */
const TRAIN_ARGS = { epochs: 1, base: 8, patch: 256, batchSize: 4 };

/**
 * Goal: an epoch on 300 RGB 1024 x 1024 images (`--patch 256 --base 8 --batch-size 4`, full size,
 * the project's 10% validation scored on whole images) with a peak RSS under 2 GiB, where holding
 * the images at training resolution would take about 3.9 GiB. The trainer runs in a child process,
 * as it does in the app, and reports its own peak.
 */
export async function benchTrainMemory(): Promise<BenchResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unet-bench-memory-'));
  try {
    const project = await writeProject(dir);
    const report = await runNodeBench<TrainMemoryReport>('train-memory-child.js', [project, JSON.stringify(TRAIN_ARGS)]);
    if (report.state !== 'completed') throw new Error(`training did not complete: ${JSON.stringify(report)}`);
    const peakRssMiB = report.peakRss / 2 ** 20;
    // What holding every image at training resolution would take: float32 intensities and byte labels.
    const datasetMiB = (IMAGES * SIZE * SIZE * (3 * 4 + 1)) / 2 ** 20;
    return {
      name: 'train-memory',
      figures: {
        images: `${IMAGES} RGB ${SIZE}x${SIZE} PNG`,
        run: `base ${TRAIN_ARGS.base}, patch ${TRAIN_ARGS.patch}, batch ${TRAIN_ARGS.batchSize}, scale 1, ${TRAIN_ARGS.epochs} epoch, cache ${DEFAULT_CACHE_MIB} MiB`,
        backend: report.backend,
        trainImages: report.trainImages,
        valImages: report.valImages,
        datasetMiB: Math.round(datasetMiB),
        baselineRssMiB: Math.round(report.baselineRss / 2 ** 20),
        peakRssMiB: Math.round(peakRssMiB),
        epochSeconds: round(report.epochSeconds),
        imagesPerSecond: round(report.imagesPerSecond),
        valDice: round(report.valDice ?? Number.NaN),
      },
      goals: { peakRssMiBUnder: GOAL_MIB, met: peakRssMiB < GOAL_MIB },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A project of IMAGES distinct RGB images with exact masks: mosaics of 4 x 4 synthetic cell
 * pictures drawn from 16, in a different arrangement and tint per image (drawing 300 full-size
 * pictures would take longer than the training).
 */
async function writeProject(dir: string): Promise<string> {
  const pieces = Array.from({ length: PIECES }, (_, index) => renderSyntheticSample(deriveSeed(5, index), PIECE, PIECE, 2));
  const imagesDir = path.join(dir, 'images');
  const masksDir = path.join(dir, 'masks');
  await mkdir(imagesDir, { recursive: true });
  await mkdir(masksDir, { recursive: true });
  const per = SIZE / PIECE;
  for (let index = 0; index < IMAGES; index++) {
    const rgb = Buffer.alloc(SIZE * SIZE * 3);
    const labels = new Uint8Array(SIZE * SIZE);
    const tint = [1, 0.7 + 0.3 * ((index % 7) / 6), 0.7 + 0.3 * ((index % 5) / 4)];
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const piece = pieces[(index * 7 + Math.floor(y / PIECE) * per * 3 + Math.floor(x / PIECE) * 5) % PIECES]!;
        const at = (y % PIECE) * PIECE + (x % PIECE);
        for (let c = 0; c < 3; c++) rgb[3 * (y * SIZE + x) + c] = Math.round(255 * tint[c]! * piece.image[at]!);
        labels[y * SIZE + x] = piece.labels[at]!;
      }
    }
    const name = `tile_${String(index).padStart(3, '0')}`;
    await sharp(rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(path.join(imagesDir, `${name}.png`));
    await writeFile(path.join(masksDir, `${name}.png`), await encodeMaskPng({ width: SIZE, height: SIZE, labels }));
  }
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  await importImages(project, ImportRequest.parse({ project: project.root, images: [imagesDir], masks: masksDir }));
  return project.root;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
