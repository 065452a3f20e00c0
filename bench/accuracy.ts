import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImportRequest } from '../app/contract/schemas.js';
import { type EpochRecord, TrainRequest } from '../app/contract/training.js';
import { importImages } from '../app/dataset/import-images.js';
import { RunFolder } from '../app/engine/runs/run-store.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { runTrainer } from '../app/engine/worker/trainer-host.js';
import { ConfusionMatrix } from '../app/engine/metrics/confusion-matrix.js';
import { readRaster } from '../app/imaging/read-image.js';
import { loadProjectModel } from '../app/inference/model-files.js';
import { segmentImage } from '../app/inference/segment-image.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { SegmentSettings } from '../app/contract/segmentation.js';
import { forkWorker } from '../app/jobs/worker-process.js';
import { Project } from '../app/project/project.js';
import type { BenchResult } from './bench-result.js';
import { ensurePyTorch, runPythonBench } from './python-reference.js';

const ISBI = fileURLToPath(new URL('../../../shared/datasets/isbi2012-membrane/', import.meta.url));
/** The same budget for both: epochs, batch, width, input scale, learning rate and schedule. */
const EPOCHS = Number(process.env.UNET_BENCH_EPOCHS ?? 20);
const BATCH = 4;
const BASE = 16;
const SCALE = 0.5;
const LEARNING_RATE = 1e-3;

interface Scores {
  pixelError: number;
  dice0: number;
  dice1: number;
  iou0: number;
  iou1: number;
}

/**
 * ISBI 2012 membranes (../shared/datasets): images 00-19 train, 20-29 validate, the same epochs,
 * batch, augmentation (flips, 90-degree turns) and schedule (1 warm-up epoch, poly decay) in
 * U-Net Studio and the PyTorch reference. Goal: validation Dice within 0.02 of PyTorch's.
 * Class 1 is cell interior (label 255), class 0 the membranes. Our final model then segments the
 * validation images as `segment` does (exported to ONNX), with and without test-time augmentation.
 */
export async function benchAccuracy(): Promise<BenchResult> {
  if (!existsSync(ISBI)) throw new Error(`The ISBI 2012 data is not at ${ISBI}; this bench needs the shared datasets.`);
  ensurePyTorch();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unet-bench-accuracy-'));
  try {
    const ours = await trainOurs(path.join(dir, 'isbi'));
    const torch = await runPythonBench<{ final: Scores; best: Scores }>('train_accuracy.py', [
      '--data', ISBI, '--epochs', String(EPOCHS), '--batch', String(BATCH), '--base', String(BASE), '--scale', String(SCALE), '--lr', String(LEARNING_RATE),
    ]);
    const gap = ours.final.dice1 - torch.final.dice1;
    return {
      name: 'accuracy',
      figures: {
        budget: `${EPOCHS} epochs, batch ${BATCH}, base ${BASE}, scale ${SCALE}, Adam ${LEARNING_RATE} warm-up + poly, flips + 90° turns`,
        oursDiceCell: round(ours.final.dice1), oursDiceMembrane: round(ours.final.dice0), oursIouCell: round(ours.final.iou1), oursIouMembrane: round(ours.final.iou0), oursPixelError: round(ours.final.pixelError),
        pytorchDiceCell: round(torch.final.dice1), pytorchDiceMembrane: round(torch.final.dice0), pytorchIouCell: round(torch.final.iou1), pytorchIouMembrane: round(torch.final.iou0), pytorchPixelError: round(torch.final.pixelError),
        oursBestDiceCell: round(ours.best.dice1), pytorchBestDiceCell: round(torch.best.dice1),
        diceGap: round(gap),
        segmentDiceCell: round(ours.segmented.plain.dice1), segmentDiceMembrane: round(ours.segmented.plain.dice0),
        ttaDiceCell: round(ours.segmented.tta.dice1), ttaDiceMembrane: round(ours.segmented.tta.dice0),
      },
      goals: { diceWithin: 0.02, met: Math.abs(gap) <= 0.02 || gap > 0 },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function trainOurs(root: string): Promise<{ final: Scores; best: Scores; segmented: { plain: Scores; tta: Scores } }> {
  const project = await Project.create(root, { classes: ['cell'] });
  await importImages(project, ImportRequest.parse({ project: root, images: [path.join(ISBI, 'images')], masks: path.join(ISBI, 'masks') }));
  const sorted = [...project.images].sort((a, b) => a.originalName.localeCompare(b.originalName));
  await project.updateImages(sorted.slice(0, 20).map((image) => image.id), () => ({ split: 'train' }));
  await project.updateImages(sorted.slice(20, 30).map((image) => image.id), () => ({ split: 'val' }));
  const request = TrainRequest.parse({
    project: root,
    preset: 'standard',
    model: { base: BASE, upsampling: 'transpose' },
    settings: {
      epochs: EPOCHS, batchSize: BATCH, learningRate: LEARNING_RATE, optimizer: 'adam', weightDecay: 0, schedule: 'poly', warmupEpochs: 1,
      clipNorm: null, patience: 0, sizing: { mode: 'scale', scale: SCALE }, patchSize: null, seed: 1,
      augmentation: { flips: true, rotate90: true, scale: [1, 1], rotateDegrees: 0, brightness: 0, contrast: 0, noise: 0 },
    },
  });
  const { run } = await prepareRun(project, request);
  await runTrainer(forkWorker, { project: root, runId: run.id, resume: false }, { signal: new AbortController().signal });
  const records = await (await RunFolder.open(project, run.id)).readMetrics();
  const scores = (record: EpochRecord): Scores => ({
    pixelError: 1 - (record.pixelAccuracy ?? 0),
    dice0: record.perClass[0]!.dice,
    dice1: record.perClass[1]!.dice,
    iou0: record.perClass[0]!.iou,
    iou1: record.perClass[1]!.iou,
  });
  const best = records.reduce((a, b) => ((b.valDice ?? 0) > (a.valDice ?? 0) ? b : a));
  const validation = sorted.slice(20, 30).map((image) => project.image(image.id));
  const segmented = { plain: await segmentValidation(project, run.id, validation, false), tta: await segmentValidation(project, run.id, validation, true) };
  return { final: scores(records.at(-1)!), best: scores(best), segmented };
}

/** Scores the run's model on the validation images at full size, through the same path as `segment`. */
async function segmentValidation(project: Project, runId: string, images: ReadonlyArray<Project['images'][number]>, tta: boolean): Promise<Scores> {
  const model = await loadProjectModel(project, runId);
  const matrix = new ConfusionMatrix(2);
  try {
    const settings = SegmentSettings.parse({ tta });
    for (const image of images) {
      const raster = await readRaster(await project.resolve(image.file), { maxPixels: project.settings.maxImagePixels, page: image.page });
      const { map } = await segmentImage(model.session, model.description, raster, { settings });
      matrix.add((await readMaskPng(await project.resolve(image.mask!))).labels, map.labels);
    }
  } finally {
    await model.session.release();
  }
  return { pixelError: 1 - matrix.pixelAccuracy(), dice0: matrix.dice(0), dice1: matrix.dice(1), iou0: matrix.iou(0), iou1: matrix.iou(1) };
}

function round(value: number): number {
  return Math.round(value * 10000) / 10000;
}
