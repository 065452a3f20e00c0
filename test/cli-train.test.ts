import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseJson, runCli } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';
import { tinyProject } from './support/tiny-project.js';

interface TrainJson {
  run: {
    id: string;
    state: string;
    backend: { name: string; skipped: { name: string; reason: string }[]; threads?: number; threadsReason?: string };
    bestEpoch: number;
    config: { settings: { cacheMiB: number; threads: number | null } };
  };
  best: { valDice: number } | null;
  modelPath: string;
}

test('unet-studio train --json reports the backend, why others were skipped, and writes the run', async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 8 });
  const run = await runCli(['train', project.root, '--preset', 'fast', '--epochs', '2', '--scale', '1', '--batch-size', '4', '--validation', '25', '--cache-mib', '1', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const result = parseJson<TrainJson>(run);
  assert.equal(result.run.state, 'completed');
  assert.equal(result.run.config.settings.cacheMiB, 1);
  assert.equal(result.run.backend.name, 'wasm');
  // Without a GPU driver Dawn finds no adapter (or only a software one): webgpu is skipped too.
  assert.deepEqual(result.run.backend.skipped.map((entry) => entry.name), ['tfjs-node-gpu', 'webgpu', 'tfjs-node']);
  for (const skipped of result.run.backend.skipped) assert.ok(skipped.reason.length > 5, skipped.reason);
  // No --threads: the training process takes every logical core (as data-parallel replicas, at
  // most one per image of a batch of 4), and the run says so.
  assert.equal(result.run.config.settings.threads, null);
  assert.equal(result.run.backend.threads, Math.min(os.availableParallelism(), 4), result.run.backend.threadsReason);
  assert.ok(result.best && result.best.valDice >= 0 && result.best.valDice <= 1);
  const runDir = path.join(project.root, 'runs', result.run.id);
  for (const file of ['run.json', 'metrics.jsonl', 'checkpoint.bin', 'model/model.json', 'model/weights.bin', 'samples/epoch-001.png']) {
    await fs.access(path.join(runDir, file));
  }
  assert.equal(result.modelPath, path.join(runDir, 'model'));

  const fineTune = await runCli(['train', project.root, '--preset', 'fast', '--from', result.run.id, '--epochs', '1', '--scale', '1', '--threads', '1', '--json']);
  assert.equal(fineTune.code, 0, fineTune.stderr);
  const fineTuned = parseJson<TrainJson>(fineTune).run;
  assert.equal(fineTuned.state, 'completed');
  assert.equal(fineTuned.config.settings.threads, 1);
  assert.equal(fineTuned.backend.threads, 1, fineTuned.backend.threadsReason);
});

test('invalid training options are usage errors that name the option', async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 2 });
  const cases: [string[], RegExp][] = [
    [['--epochs', 'many'], /--epochs must be a number/],
    [['--scale', '0.5', '--size', '64x64'], /either --scale or --size/],
    [['--optimizer', 'sgd'], /--optimizer must be one of adam, adamw, rmsprop/],
    [['--base', '12'], /base/],
    [['--cache-mib=-1'], /cacheMiB/],
    [['--threads', '0'], /threads/],
    [['--classes', '5'], /does not match the project, which has 2 classes/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(['train', project.root, ...args]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
  const missing = await runCli(['train', project.root, '--resume', 'no-such-run']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no-such-run.*no such file/);
});

test('unet-studio demo runs the whole job: project, training, segmentation of new images, ONNX export', async (t) => {
  const folder = path.join(await tempDir(t), 'demo');
  const run = await runCli(['demo', folder, '--count', '8', '--size', '64', '--epochs', '1', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const result = parseJson<{ training: { bestValDice: number }; segmentation: { segmented: number; skipped: number }; exported: { files: string[] } }>(run);
  assert.ok(result.training.bestValDice >= 0 && result.training.bestValDice <= 1);
  assert.deepEqual([result.segmentation.segmented, result.segmentation.skipped], [8, 0]);
  assert.equal((await fs.readdir(path.join(folder, 'segmented'))).filter((name) => name.endsWith('_overlay.png')).length, 8);
  for (const file of result.exported.files) await fs.access(file);
  assert.ok(result.exported.files.some((file) => file.endsWith('demo-cells.onnx')));
});
