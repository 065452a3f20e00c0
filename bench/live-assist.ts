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
  /** What class 0 is in this data set (class 1 is the cells). */
  class0: string;
  /** Images and their full truth (class ids, 255 = none); the first is the one in the editor. */
  images: string[];
  truths: string[];
  masksAreBinary255: boolean;
}

/**
 * Live assist as a user meets it: images without masks in a scribble-mode project, scribbles drawn
 * from the truth (short strokes along the inside of cells and of the background or membranes, under
 * 3 % of the pixels) and saved through the contract as the editor saves them, Live switched on
 * through the contract, and the Dice of every live prediction of the image in the editor against its
 * full truth, over time. Then the plain `train` (fast preset) on the same scribbles for the same time,
 * scored the same way. Cell Dice alone says little on ISBI (calling every pixel a cell scores 0.88):
 * the mean Dice over both classes is what a prediction that learnt nothing cannot reach, and the best
 * global intensity threshold (chosen with the truth) is the bar for learning more than darkness.
 */
export async function benchLiveAssist(): Promise<BenchResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unet-bench-live-'));
  try {
    const demo = await generateSynthetic({ outDir: path.join(dir, 'demo-data'), count: 6, width: 128, height: 128, seed: 1 });
    const sets: DataSet[] = [
      { name: 'demo', class0: 'background', images: demo.images.slice(0, 3), truths: demo.masks.slice(0, 3), masksAreBinary255: false },
    ];
    if (existsSync(ISBI)) {
      const names = ['00.png', '01.png', '02.png'];
      sets.push({ name: 'isbi', class0: 'membrane', images: names.map((name) => path.join(ISBI, 'images', name)), truths: names.map((name) => path.join(ISBI, 'masks', name)), masksAreBinary255: true });
    }
    const figures: BenchResult['figures'] = {
      seconds: SECONDS,
      scribbles: `strokes 3 px wide along the inside of each class, drawn from the truth, half of the budget per class, at most ${SCRIBBLE_SHARE * 100}% of the pixels of each of 3 images; Dice on the first image against its full truth: of the cell class (dice), of class 0 (background or membrane), and their mean`,
    };
    const series: Record<string, SeriesPoint[]> = {};
    for (const set of sets) {
      const live = await liveRun(path.join(dir, set.name), set);
      series[set.name] = live.series;
      const class0 = `${set.class0[0]!.toUpperCase()}${set.class0.slice(1)}`;
      figures[`${set.name}ScribbledShare`] = round(live.scribbledShare);
      figures[`${set.name}${class0}ShareOfScribbles`] = round(live.class0Share);
      // What calling every pixel a cell scores, and the best a global intensity threshold can do (chosen with the truth).
      const truth = await truthOf(set, 0);
      const allCell = scores(truth, new Uint8Array(truth.length).fill(1));
      figures[`${set.name}AllCellDice`] = allCell.dice;
      figures[`${set.name}AllCellMeanDice`] = allCell.meanDice;
      figures[`${set.name}ThresholdMeanDice`] = await bestThresholdMeanDice(set, truth);
      for (const at of CHECKPOINTS) {
        const point = pointAt(live.series, at);
        figures[`${set.name}DiceAt${at}s`] = point.dice;
        figures[`${set.name}${class0}DiceAt${at}s`] = point.class0Dice;
        figures[`${set.name}MeanDiceAt${at}s`] = point.meanDice;
      }
      for (const at of CHECKPOINTS) {
        const trained = await plainTrainScores(path.join(dir, `${set.name}-train-${at}`), set, at);
        figures[`${set.name}TrainDiceAt${at}s`] = trained.dice;
        figures[`${set.name}TrainMeanDiceAt${at}s`] = trained.meanDice;
      }
    }
    const isbi = figures.isbiMeanDiceAt120s === undefined ? null : Number(figures.isbiMeanDiceAt120s);
    return {
      name: 'live-assist',
      figures: { ...figures, diceAt30s: figures.demoDiceAt30s!, diceAt120s: figures.isbiDiceAt120s ?? figures.demoDiceAt120s! },
      // ISBI is judged on the mean Dice of both classes: calling every pixel a cell meets the cell-Dice bar of 0.80 but scores 0.44 here.
      goals: { demoDiceAt30s: 0.85, isbiMeanDiceAt120s: 0.8, met: Number(figures.demoDiceAt30s) >= 0.85 && (isbi === null || isbi >= 0.8) },
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
async function scribbledProject(root: string, set: DataSet, client: ContractClient | null): Promise<{ project: Project; scribbledShare: number; class0Share: number }> {
  const images = path.join(root, 'images');
  await mkdir(images, { recursive: true });
  const project = await Project.create(path.join(root, 'project'), { classes: ['cell'] });
  await project.setScribble(true);
  await importImages(project, ImportRequest.parse({ project: project.root, images: set.images }));
  const random = createRandom(7);
  let painted = 0;
  let class0 = 0;
  let pixels = 0;
  for (let index = 0; index < set.images.length; index++) {
    const truth = await truthOf(set, index);
    const entry = project.images.find((image) => image.originalName === path.basename(set.images[index]!))!;
    const scribble = scribbleFromTruth(truth, entry.width, entry.height, random.next);
    painted += scribble.filter((label) => label !== IGNORE_LABEL).length;
    class0 += scribble.filter((label) => label === 0).length;
    pixels += scribble.length;
    const tile = { x: 0, y: 0, width: entry.width, height: entry.height, encoding: 'deflate' as const, labelsBase64: deflateSync(scribble).toString('base64') };
    if (client) unwrap(await client.invoke('masks.patch', { project: project.root, id: entry.id, tiles: [tile] }));
    else await project.writeMask(entry.id, { width: entry.width, height: entry.height, labels: scribble }, 'partial');
  }
  return { project, scribbledShare: painted / pixels, class0Share: class0 / painted };
}

/** Where a stroke may go next: straight on, or a turn of 45° either way. */
const DIRECTIONS = [[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]] as const;
const STROKE_STEPS = 40;

/**
 * Strokes as a user draws them: a 3 px brush moved along the inside of one class (every pixel it
 * paints is of that class), turning to follow it, up to 40 px long, so thin membranes get strokes
 * along them as well as cells. The budget is split evenly between the classes, strokes alternating.
 */
function scribbleFromTruth(truth: Uint8Array, width: number, height: number, random: () => number): Uint8Array {
  const scribble = new Uint8Array(truth.length).fill(IGNORE_LABEL);
  const brushFits = (x: number, y: number, label: number) => {
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const u = x + dx;
        const v = y + dy;
        if (u < 0 || v < 0 || u >= width || v >= height || truth[v * width + u] !== label) return false;
      }
    }
    return true;
  };
  const budget = Math.floor((truth.length * SCRIBBLE_SHARE) / 2);
  const painted = [0, 0];
  for (let attempt = 0; attempt < 40_000 && (painted[0]! < budget || painted[1]! < budget); attempt++) {
    const label = attempt % 2;
    if (painted[label]! >= budget) continue;
    let x = Math.floor(random() * width);
    let y = Math.floor(random() * height);
    if (!brushFits(x, y, label)) continue;
    let heading = Math.floor(random() * DIRECTIONS.length);
    for (let step = 0; step < STROKE_STEPS && painted[label]! < budget; step++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const at = (y + dy) * width + x + dx;
          if (scribble[at] === IGNORE_LABEL) painted[label]! += 1;
          scribble[at] = label;
        }
      }
      const turn = random() < 0.5 ? 1 : DIRECTIONS.length - 1;
      const next = [heading, (heading + turn) % DIRECTIONS.length, (heading + DIRECTIONS.length - turn) % DIRECTIONS.length].find((d) => brushFits(x + DIRECTIONS[d]![0], y + DIRECTIONS[d]![1], label));
      if (next === undefined) break;
      [x, y, heading] = [x + DIRECTIONS[next]![0], y + DIRECTIONS[next]![1], next];
    }
  }
  return scribble;
}

interface Scores {
  /** Dice of the cell class, of class 0, and their mean. */
  dice: number;
  class0Dice: number;
  meanDice: number;
}
type SeriesPoint = { seconds: number } & Scores;

function scores(truth: Uint8Array, predicted: Uint8Array): Scores {
  const matrix = new ConfusionMatrix(2);
  matrix.add(truth, predicted);
  return { dice: round(matrix.dice(1)), class0Dice: round(matrix.dice(0)), meanDice: round((matrix.dice(0) + matrix.dice(1)) / 2) };
}

/** The best mean Dice of one global intensity threshold between the classes, over all thresholds and both sides (the truth picks them). */
async function bestThresholdMeanDice(set: DataSet, truth: Uint8Array): Promise<number> {
  const raster = await readRaster(set.images[0]!, { maxPixels: Number.MAX_SAFE_INTEGER });
  const grey = new Uint8Array(truth.length);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round((raster.data[i * raster.channels]! * 255) / (raster.bitDepth === 16 ? 65535 : 255));
  let best = 0;
  for (let threshold = 0; threshold <= 256; threshold += 4) {
    for (const darker of [0, 1]) best = Math.max(best, scores(truth, grey.map((value) => (value < threshold ? darker : 1 - darker))).meanDice);
  }
  return best;
}

/** The scores of the latest prediction made by `seconds` (0 before the first). */
function pointAt(series: readonly SeriesPoint[], seconds: number): Scores {
  return series.filter((point) => point.seconds <= seconds).at(-1) ?? { dice: 0, class0Dice: 0, meanDice: 0 };
}

async function liveRun(root: string, set: DataSet): Promise<{ series: SeriesPoint[]; scribbledShare: number; class0Share: number }> {
  const services = createAppServices({ browseHome: root });
  const [clientEnd, hostEnd] = createMemoryTransportPair();
  serveContract(services.registry, hostEnd, services.events);
  const client = new ContractClient(clientEnd);
  try {
    const { project, scribbledShare, class0Share } = await scribbledProject(root, set, client);
    const current = project.images.find((image) => image.originalName === path.basename(set.images[0]!))!;
    const truth = await truthOf(set, 0);
    const series: SeriesPoint[] = [];
    const started = performance.now();
    client.on('live.prediction', (prediction: LivePrediction) => {
      if (prediction.imageId !== current.id || prediction.region !== null) return; // whole-image predictions only (no view is sent)
      const labels = new Uint8Array(inflateSync(Buffer.from(prediction.map.base64, 'base64')));
      series.push({ seconds: round((performance.now() - started) / 1000), ...scores(truth, labels) });
    });
    const { sessionId } = unwrap(await client.invoke('live.start', { project: project.root, imageId: current.id, predictEverySeconds: 2 }));
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    await client.invoke('live.stop', { sessionId });
    return { series, scribbledShare, class0Share };
  } finally {
    client.close();
    await services.close();
  }
}

/** `train` (fast preset, every scribbled image for training) stopped after `seconds`, its model scored on the first image. */
async function plainTrainScores(root: string, set: DataSet, seconds: number): Promise<Scores> {
  const { project } = await scribbledProject(root, set, null);
  const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, preset: 'fast', settings: { epochs: 1000, validationPercent: 0 } }));
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), seconds * 1000);
  await runTrainer(forkWorker, { project: project.root, runId: run.id, resume: false }, { signal: controller.signal }).catch(() => undefined); // stopped on purpose
  clearTimeout(timer);
  const reopened = await Project.open(project.root);
  const model = await loadProjectModel(reopened, run.id).catch(() => null); // no epoch finished in time: no model
  if (!model) return { dice: 0, class0Dice: 0, meanDice: 0 };
  try {
    const entry = reopened.images.find((image) => image.originalName === path.basename(set.images[0]!))!;
    const raster = await readRaster(await reopened.resolve(entry.file), { maxPixels: reopened.settings.maxImagePixels });
    const { map } = await segmentImage(model.session, model.description, raster, { settings: SegmentSettings.parse({}) });
    return scores(await truthOf(set, 0), map.labels);
  } finally {
    await model.session.release();
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
