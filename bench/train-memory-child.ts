// Child process of bench/train-memory.ts: trains one run in process, as the trainer process does, and
// reports its own peak memory (the worker threads that read and augment the images included).
import { TrainRequest } from '../app/contract/training.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { train } from '../app/engine/training/trainer.js';
import { Project } from '../app/project/project.js';

export interface TrainMemoryReport {
  state: string;
  backend: string;
  trainImages: number;
  valImages: number;
  baselineRss: number;
  peakRss: number;
  epochSeconds: number;
  imagesPerSecond: number;
  valDice: number | null;
}

const [root, args] = process.argv.slice(2);
const { epochs, base, patch, batchSize } = JSON.parse(args!) as { epochs: number; base: 8; patch: number; batchSize: number };
const project = await Project.open(root!);
const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, preset: 'standard', model: { base }, settings: { epochs, batchSize, patchSize: patch, sizing: { mode: 'scale', scale: 1 } } }));
const baselineRss = process.memoryUsage().rss;
let last: { seconds: number; imagesPerSecond: number; valDice: number | null } | null = null;
const summary = await train({ project, run, resume: false, signal: new AbortController().signal, onEpoch: (record) => (last = record) });
const report: TrainMemoryReport = {
  state: summary.state,
  backend: summary.backend?.name ?? 'none',
  trainImages: summary.trainImages,
  valImages: summary.valImages,
  baselineRss,
  peakRss: process.resourceUsage().maxRSS * 1024,
  epochSeconds: last!.seconds,
  imagesPerSecond: last!.imagesPerSecond,
  valDice: last!.valDice,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
