import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, inflateSync } from 'node:zlib';
import { ContractClient } from '../app/contract/client.js';
import { unwrap } from '../app/contract/envelope.js';
import type { LivePrediction } from '../app/contract/live.js';
import { createMemoryTransportPair } from '../app/contract/memory-transport.js';
import { ImportRequest, IGNORE_LABEL } from '../app/contract/schemas.js';
import { SegmentSettings } from '../app/contract/segmentation.js';
import { serveContract } from '../app/contract/server.js';
import { TrainRequest } from '../app/contract/training.js';
import { importImages } from '../app/dataset/import-images.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { ConfusionMatrix } from '../app/engine/metrics/confusion-matrix.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { runTrainer } from '../app/engine/worker/trainer-host.js';
import { readRaster } from '../app/imaging/read-image.js';
import { loadProjectModel } from '../app/inference/model-files.js';
import { segmentImage } from '../app/inference/segment-image.js';
import { forkWorker } from '../app/jobs/worker-process.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { createRandom } from '../app/random/prng.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import type { BenchResult } from './bench-result.js';

const ISBI = fileURLToPath(new URL('../../../shared/datasets/isbi2012-membrane/', import.meta.url));
/** Seconds of live training per data set (the figures are read at 30 s and 120 s). */
const SECONDS = Number(process.env.UNET_BENCH_LIVE_SECONDS ?? 125);
const CHECKPOINTS = [30, 120] as const;
/** Share of an image's pixels the simulated user paints at most. */
const SCRIBBLE_SHARE = 0.025;

interface DataSet {
  name: string;
  /** Images and their full truth (class ids, 255 = none); the first is the one in the editor. */
  images: string[];
  truths: string[];
  masksAreBinary255: boolean;
}

/**
 * Live assist as a user meets it: images without masks in a scribble-mode project, scribbles drawn
 * from the truth (short strokes inside cells and in the background, under 3 % of the pixels) and
 * saved through the contract as the editor saves them, Live switched on through the contract, and
 * the Dice of every live prediction of the image in the editor against its full truth, over time.
 * Then the plain `train` (fast preset) on the same scribbles for the same time, scored the same way.
 */
export async function benchLiveAssist(): Promise<BenchResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unet-bench-live-'));
  try {
    const demo = await generateSynthetic({ outDir: path.join(dir, 'demo-data'), count: 6, width: 128, height: 128, seed: 1 });
    const sets: DataSet[] = [
      { name: 'demo', images: demo.images.slice(0, 3), truths: demo.masks.slice(0, 3), masksAreBinary255: false },
    ];
    if (existsSync(ISBI)) {
      const names = ['00.png', '01.png', '02.png'];
      sets.push({ name: 'isbi', images: names.map((name) => path.join(ISBI, 'images', name)), truths: names.map((name) => path.join(ISBI, 'masks', name)), masksAreBinary255: true });
    }
    const figures: BenchResult['figures'] = { seconds: SECONDS, scribbles: `short strokes of each class from the truth, at most ${SCRIBBLE_SHARE * 100}% of the pixels of each of 3 images; Dice of the cell class on the first image, against its full truth` };
    const series: Record<string, Array<{ seconds: number; dice: number }>> = {};
    for (const set of sets) {
      const live = await liveRun(path.join(dir, set.name), set);
      series[set.name] = live.series;
      figures[`${set.name}ScribbledShare`] = round(live.scribbledShare);
      // What calling every pixel a cell scores: a Dice near it means nothing was learnt (ISBI is mostly cell interior).
      const truth = await truthOf(set, 0);
      figures[`${set.name}AllCellDice`] = round(dice(truth, new Uint8Array(truth.length).fill(1)));
      for (const at of CHECKPOINTS) figures[`${set.name}DiceAt${at}s`] = round(diceAt(live.series, at));
      for (const at of CHECKPOINTS) figures[`${set.name}TrainDiceAt${at}s`] = round(await plainTrainDice(path.join(dir, `${set.name}-train-${at}`), set, at));
    }
    return {
      name: 'live-assist',
      figures: { ...figures, diceAt30s: figures.demoDiceAt30s!, diceAt120s: figures.isbiDiceAt120s ?? figures.demoDiceAt120s! },
      goals: { demoDiceAt30s: 0.85, isbiDiceAt120s: 0.8, met: Number(figures.demoDiceAt30s) >= 0.85 && (figures.isbiDiceAt120s === undefined || Number(figures.isbiDiceAt120s) >= 0.8) },
      series,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function truthOf(set: DataSet, index: number): Promise<Uint8Array> {
  const { labels } = await readMaskPng(set.truths[index]!);
  return set.masksAreBinary255 ? labels.map((value) => (value > 0 ? 1 : 0)) : labels;
}

/** A scribble-mode project with the images imported without masks, and the scribbles saved through the contract. */
async function scribbledProject(root: string, set: DataSet, client: ContractClient | null): Promise<{ project: Project; scribbledShare: number }> {
  const images = path.join(root, 'images');
  await mkdir(images, { recursive: true });
  const project = await Project.create(path.join(root, 'project'), { classes: ['cell'] });
  await project.setScribble(true);
  await importImages(project, ImportRequest.parse({ project: project.root, images: set.images }));
  const random = createRandom(7);
  let painted = 0;
  let pixels = 0;
  for (let index = 0; index < set.images.length; index++) {
    const truth = await truthOf(set, index);
    const entry = project.images.find((image) => image.originalName === path.basename(set.images[index]!))!;
    const scribble = scribbleFromTruth(truth, entry.width, entry.height, random.next);
    painted += scribble.filter((label) => label !== IGNORE_LABEL).length;
    pixels += scribble.length;
    const tile = { x: 0, y: 0, width: entry.width, height: entry.height, encoding: 'deflate' as const, labelsBase64: deflateSync(scribble).toString('base64') };
    if (client) unwrap(await client.invoke('masks.patch', { project: project.root, id: entry.id, tiles: [tile] }));
    else await project.writeMask(entry.id, { width: entry.width, height: entry.height, labels: scribble }, 'partial');
  }
  return { project, scribbledShare: painted / pixels };
}

/**
 * Strokes as a user draws them: horizontal strokes 3 px thick, each inside one class (its pixels and
 * their neighbours 3 px around all of that class), alternating cells and background, until the budget.
 */
function scribbleFromTruth(truth: Uint8Array, width: number, height: number, random: () => number): Uint8Array {
  const scribble = new Uint8Array(truth.length).fill(IGNORE_LABEL);
  const margin = 3;
  const inside = (x: number, y: number, label: number) => {
    for (let dy = -margin; dy <= margin; dy++) {
      for (let dx = -margin; dx <= margin; dx++) {
        const u = x + dx;
        const v = y + dy;
        if (u < 0 || v < 0 || u >= width || v >= height || truth[v * width + u] !== label) return false;
      }
    }
    return true;
  };
  const budget = Math.floor(truth.length * SCRIBBLE_SHARE);
  let painted = 0;
  for (let attempt = 0; attempt < 20_000 && painted < budget - 3 * 24; attempt++) {
    const label = attempt % 2; // cells, then background
    const x = Math.floor(random() * width);
    const y = Math.floor(random() * height);
    if (!inside(x, y, label)) continue;
    let end = x;
    while (end - x < 24 && end + 1 < width && inside(end + 1, y, label)) end++;
    for (let u = x; u <= end; u++) {
      for (let dy = -1; dy <= 1; dy++) {
        const at = (y + dy) * width + u;
        if (scribble[at] === IGNORE_LABEL) painted++;
        scribble[at] = label;
      }
    }
  }
  return scribble;
}

function dice(truth: Uint8Array, predicted: Uint8Array): number {
  const matrix = new ConfusionMatrix(2);
  matrix.add(truth, predicted);
  return matrix.dice(1);
}

/** The Dice of the latest prediction made by `seconds` (0 before the first). */
function diceAt(series: ReadonlyArray<{ seconds: number; dice: number }>, seconds: number): number {
  return series.filter((point) => point.seconds <= seconds).at(-1)?.dice ?? 0;
}

async function liveRun(root: string, set: DataSet): Promise<{ series: Array<{ seconds: number; dice: number }>; scribbledShare: number }> {
  const services = createAppServices({ browseHome: root });
  const [clientEnd, hostEnd] = createMemoryTransportPair();
  serveContract(services.registry, hostEnd, services.events);
  const client = new ContractClient(clientEnd);
  try {
    const { project, scribbledShare } = await scribbledProject(root, set, client);
    const current = project.images.find((image) => image.originalName === path.basename(set.images[0]!))!;
    const truth = await truthOf(set, 0);
    const series: Array<{ seconds: number; dice: number }> = [];
    const started = performance.now();
    client.on('live.prediction', (prediction: LivePrediction) => {
      if (prediction.imageId !== current.id) return;
      const labels = new Uint8Array(inflateSync(Buffer.from(prediction.map.base64, 'base64')));
      series.push({ seconds: round((performance.now() - started) / 1000), dice: round(dice(truth, labels)) });
    });
    const { sessionId } = unwrap(await client.invoke('live.start', { project: project.root, imageId: current.id, predictEverySeconds: 2 }));
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    await client.invoke('live.stop', { sessionId });
    return { series, scribbledShare };
  } finally {
    client.close();
    await services.close();
  }
}

/** `train` (fast preset, every scribbled image for training) stopped after `seconds`, its model scored on the first image. */
async function plainTrainDice(root: string, set: DataSet, seconds: number): Promise<number> {
  const { project } = await scribbledProject(root, set, null);
  const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, preset: 'fast', settings: { epochs: 1000, validationPercent: 0 } }));
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), seconds * 1000);
  await runTrainer(forkWorker, { project: project.root, runId: run.id, resume: false }, { signal: controller.signal }).catch(() => undefined); // stopped on purpose
  clearTimeout(timer);
  const reopened = await Project.open(project.root);
  const model = await loadProjectModel(reopened, run.id).catch(() => null); // no epoch finished in time: no model
  if (!model) return 0;
  try {
    const entry = reopened.images.find((image) => image.originalName === path.basename(set.images[0]!))!;
    const raster = await readRaster(await reopened.resolve(entry.file), { maxPixels: reopened.settings.maxImagePixels });
    const { map } = await segmentImage(model.session, model.description, raster, { settings: SegmentSettings.parse({}) });
    return dice(await truthOf(set, 0), map.labels);
  } finally {
    await model.session.release();
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
