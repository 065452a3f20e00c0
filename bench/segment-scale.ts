import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { renderSyntheticSample } from '../app/dataset/synthetic.js';
import { segmentImage } from '../app/inference/segment-image.js';
import { loadOnnxModel } from '../app/inference/model-files.js';
import { readRaster } from '../app/imaging/read-image.js';
import { deriveSeed } from '../app/random/prng.js';
import { runNodeBench } from './bench-child.js';
import type { BenchResult } from './bench-result.js';

const MODEL = fileURLToPath(new URL('../../test/fixtures/unet-b3-cells.onnx', import.meta.url));
const HUGE = 12_000;
const AGREEMENT_SIZE = 3000;
const PIECE = 250;

/**
 * Goals: a 12000 x 12000 8-bit image segments (tiled, overlay written) with under 1.5 GB of peak RSS
 * growth; on a 3000 x 3000 image tiled inference (512, overlap 64) agrees with one whole-image run on
 * >= 99.5% of pixels. Images are mosaics of synthetic cell pictures. Set SEGMENT_BENCH_KEEP=1 to keep
 * the outputs (the folder is printed) and look at the overlays for seams.
 */
export async function benchSegmentScale(): Promise<BenchResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unet-bench-segment-'));
  const keep = process.env.SEGMENT_BENCH_KEEP === '1';
  try {
    const agreement = await tiledVersusWhole(dir);
    const hugeFile = path.join(dir, 'huge.png');
    await writeMosaic(hugeFile, HUGE);
    const child = await runNodeBench<{ restRss: number; baselineRss: number; peakRss: number; seconds: number; segmented: number; skipped: unknown }>('segment-scale-child.js', [hugeFile, path.join(dir, 'huge-out'), MODEL]);
    if (child.segmented !== 1) throw new Error(`the 12000 x 12000 image was not segmented: ${JSON.stringify(child)}`);
    const growthGb = (child.peakRss - child.baselineRss) / 2 ** 30;
    const figures = {
      hugeSize: `${HUGE}x${HUGE}`,
      /** Peak RSS above the process with the model loaded (the goal's measure). */
      hugePeakRssGrowthGb: round(growthGb, 3),
      /** Peak RSS above the process at rest, before the model's sessions opened (what a user sees in a task manager). */
      hugePeakRssAboveRestGb: round((child.peakRss - child.restRss) / 2 ** 30, 3),
      modelSessionsGb: round((child.baselineRss - child.restRss) / 2 ** 30, 3),
      hugeSeconds: round(child.seconds, 1),
      hugeMegapixelsPerSecond: round((HUGE * HUGE) / 1e6 / child.seconds, 2),
      agreementSize: `${AGREEMENT_SIZE}x${AGREEMENT_SIZE}`,
      tiledVsWholeAgreementPercent: round(100 * agreement.fraction, 4),
      wholeSeconds: round(agreement.wholeSeconds, 1),
      tiledSeconds: round(agreement.tiledSeconds, 1),
      ...(keep ? { outputs: dir } : {}),
    };
    return { name: 'segment-scale', figures, goals: { peakRssGrowthUnderGb: 1.5, agreementAtLeastPercent: 99.5, met: growthGb < 1.5 && agreement.fraction >= 0.995 } };
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}

async function tiledVersusWhole(dir: string): Promise<{ fraction: number; wholeSeconds: number; tiledSeconds: number }> {
  const file = path.join(dir, 'agreement.png');
  await writeMosaic(file, AGREEMENT_SIZE);
  const raster = await readRaster(file, { maxPixels: 1e9 });
  const model = await loadOnnxModel(MODEL, { classes: ['cell'], normalisation: 'unit' });
  try {
    const settings = { threshold: 0.5, fillHoles: false, minObjectPixels: 0, connectivity: 8 as const, tta: false };
    let started = performance.now();
    const whole = await segmentImage(model.session, model.description, raster, { settings: { ...settings, tile: 4096, overlap: 0 } });
    const wholeSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const tiled = await segmentImage(model.session, model.description, raster, { settings: { ...settings, tile: 512, overlap: 64 } });
    const tiledSeconds = (performance.now() - started) / 1000;
    let agree = 0;
    const difference = new Uint8Array(whole.map.labels.length);
    for (let i = 0; i < difference.length; i++) {
      if (whole.map.labels[i] === tiled.map.labels[i]) agree += 1;
      else difference[i] = 255;
    }
    // For looking at: the tiled mask over the image, and where tiled and whole differ.
    const overlay = Buffer.alloc(difference.length * 3);
    for (let i = 0; i < difference.length; i++) {
      const grey = raster.data[i]!;
      overlay[3 * i] = tiled.map.labels[i] ? Math.round(0.5 * grey + 0.5 * 230) : grey;
      overlay[3 * i + 1] = tiled.map.labels[i] ? Math.round(0.5 * grey + 0.5 * 159) : grey;
      overlay[3 * i + 2] = tiled.map.labels[i] ? Math.round(0.5 * grey) : grey;
    }
    await sharp(overlay, { raw: { width: raster.width, height: raster.height, channels: 3 } }).png().toFile(path.join(dir, 'agreement-tiled-overlay.png'));
    await sharp(difference, { raw: { width: raster.width, height: raster.height, channels: 1 } }).png().toFile(path.join(dir, 'agreement-difference.png'));
    return { fraction: agree / difference.length, wholeSeconds, tiledSeconds };
  } finally {
    await model.session.release();
  }
}

/** A size x size 8-bit grey PNG of 250 x 250 synthetic cell pictures (16 distinct ones, in a shifting pattern). */
async function writeMosaic(file: string, size: number): Promise<void> {
  const pieces = Array.from({ length: 16 }, (_, index) => renderSyntheticSample(deriveSeed(3, index), PIECE, PIECE, 2).image);
  const pixels = Buffer.alloc(size * size);
  for (let y = 0; y < size; y++) {
    const row = Math.floor(y / PIECE);
    for (let x = 0; x < size; x++) {
      const piece = pieces[(row * 5 + Math.floor(x / PIECE)) % pieces.length]!;
      pixels[y * size + x] = Math.round(255 * piece[(y % PIECE) * PIECE + (x % PIECE)]!);
    }
  }
  await sharp(pixels, { raw: { width: size, height: size, channels: 1 }, limitInputPixels: false }).toColourspace('b-w').png().toFile(file);
}

function round(value: number, digits: number): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}
