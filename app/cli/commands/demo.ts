import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelExportRequest } from '../../contract/model-export.js';
import { SegmentRequest } from '../../contract/segmentation.js';
import { TrainRequest } from '../../contract/training.js';
import { createDemoProject } from '../../dataset/demo-project.js';
import { prepareRun } from '../../engine/training/prepare-run.js';
import { runTrainer } from '../../engine/worker/trainer-host.js';
import { forkWorker } from '../../jobs/worker-process.js';
import { exportModel } from '../../export/export-model.js';
import { segmentBatch } from '../../inference/batch-segment.js';
import type { Project } from '../../project/project.js';
import { UsageError, EXIT } from '../cli-error.js';
import type { Command } from '../command.js';
import { wholeNumber } from '../option-values.js';
import { ProgressBar } from '../progress-bar.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'synthetic cells -> project -> train (fast preset) -> segment new images -> export ONNX',
  usage: 'unet-studio demo [folder] [--count N] [--size N] [--classes 2|3] [--seed N] [--epochs N] [--skip-train] [--json]',
  options: {
    count: { type: 'string', default: '48' },
    size: { type: 'string', default: '128' },
    classes: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '12' },
    'skip-train': { type: 'boolean', default: false },
  },
  async run(values, positionals, context) {
    if (positionals.length > 1) throw new UsageError('demo takes at most one folder.');
    const count = wholeNumber(values.count, '--count', 2, 10_000);
    const size = wholeNumber(values.size, '--size', 32, 4096);
    const seed = wholeNumber(values.seed, '--seed', 0, 2 ** 31);
    const epochs = wholeNumber(values.epochs, '--epochs', 1, 10_000);
    const classes = values.classes === '3' ? 3 : values.classes === '2' ? 2 : null;
    if (classes === null) throw new UsageError('--classes must be 2 (cells) or 3 (cytoplasm and nucleus).');
    const folder = path.resolve(positionals[0] ?? (await mkdtemp(path.join(os.tmpdir(), 'unet-studio-demo-'))));

    context.print(`Generating ${count} labelled and 8 new synthetic images in ${folder} ...`);
    const bar = new ProgressBar('Importing', process.stderr, !context.json && Boolean(process.stderr.isTTY));
    const { project, newImagesDir, report } = await createDemoProject({ folder, count, size, classes, seed }, {
      signal: context.signal,
      onProgress: (done, total, file) => bar.update(done, total, file),
    }).finally(() => bar.finish());
    context.print(`Project ready: ${project.root} (${report.labelled} labelled images)`);
    const training = values['skip-train'] ? null : await trainDemo(project, epochs, context);
    const segmentation = training ? await segmentDemo(project, training.runId, newImagesDir, path.join(folder, 'segmented'), context) : null;
    const exported = training ? await exportModel(project, ModelExportRequest.parse({ project: project.root, runId: training.runId, format: 'onnx', out: path.join(folder, 'exports', 'demo-cells.onnx') })) : null;
    if (exported) context.print(`ONNX model and model card: ${exported.files.join(', ')}`);
    else context.print(`New images to segment: ${newImagesDir}`);
    context.print(`Look at it in a browser: unet-studio serve ${project.root}`);
    return { exitCode: EXIT.ok, json: { folder, project: project.root, newImages: newImagesDir, import: report, training, segmentation, exported } };
  },
};

async function trainDemo(project: Project, epochs: number, context: Parameters<Command['run']>[2]) {
  const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, preset: 'fast', settings: { epochs } }));
  context.print(`Training run ${run.id} (fast preset, ${epochs} epochs) ...`);
  const bar = new ProgressBar('Training', process.stderr, !context.json && Boolean(process.stderr.isTTY));
  const summary = await runTrainer(forkWorker, { project: project.root, runId: run.id, resume: false }, {
    signal: context.signal,
    onStep: (step) => bar.update(step.step, step.steps, `epoch ${step.epoch}/${step.epochs} loss ${step.loss.toFixed(3)}`),
    onEpoch: (record) => {
      bar.finish();
      context.print(`  epoch ${record.epoch}/${epochs}: val Dice ${record.valDice?.toFixed(4) ?? '-'}`);
    },
  }).finally(() => bar.finish());
  context.print(`Validation Dice ${summary.bestValDice?.toFixed(4) ?? '-'} (best epoch ${summary.bestEpoch}) on ${summary.backend?.name}; model in ${await project.resolve(summary.modelPath ?? '')}`);
  return { runId: summary.id, bestValDice: summary.bestValDice, bestEpoch: summary.bestEpoch, backend: summary.backend, modelPath: summary.modelPath };
}

async function segmentDemo(project: Project, runId: string, input: string, output: string, context: Parameters<Command['run']>[2]) {
  const bar = new ProgressBar('Segmenting', process.stderr, !context.json && Boolean(process.stderr.isTTY));
  const report = await segmentBatch(SegmentRequest.parse({ model: `${project.root}:${runId}`, inputs: [input], output, overlay: true }), {
    signal: context.signal,
    onProgress: (done, total, file) => bar.update(done, total, file),
  }).finally(() => bar.finish());
  context.print(`Segmented ${report.segmented.length} new images into ${output} (label, colour and overlay PNGs; summary ${path.basename(report.summaryCsv)}) on ${report.provider.name}`);
  return { output, segmented: report.segmented.length, skipped: report.skipped.length, summaryCsv: report.summaryCsv, provider: report.provider.name };
}
