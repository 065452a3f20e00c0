// `unet-studio train` on the webgpu rung, with SwiftShader as the only WebGPU adapter (the two
// variables go to the CLI process, which hands them to its trainer process).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeBackend } from '../app/contract/describe-backend.js';
import type { BackendReport, EpochRecord } from '../app/contract/training.js';
import { RunFolder } from '../app/engine/runs/run-store.js';
import { parseJson, runCli } from './support/run-cli.js';
import { noSoftwareGpu, softwareGpuEnv } from './support/software-gpu.js';
import { tempDir } from './support/temp-dir.js';
import { tinyProject } from './support/tiny-project.js';

interface TrainJson {
  run: { id: string; state: string; backend: BackendReport };
  best: EpochRecord | null;
}

test('train --backend webgpu trains on the software adapter; the JSON names backend webgpu and the adapter, and the loss falls', { skip: noSoftwareGpu }, async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 5, size: 32 });
  const run = await runCli(['train', project.root, '--backend', 'webgpu', '--epochs', '2', '--size', '32x32', '--batch-size', '2', '--validation', '20', '--json'], { env: softwareGpuEnv() });
  assert.equal(run.code, 0, run.stderr);
  const result = parseJson<TrainJson>(run);
  assert.equal(result.run.state, 'completed');
  assert.equal(result.run.backend.name, 'webgpu');
  assert.equal(result.run.backend.reason, 'chosen with --backend');
  assert.equal(result.run.backend.adapter?.architecture, 'swiftshader');
  assert.equal(result.run.backend.adapter?.software, true);
  const metrics = await (await RunFolder.open(project, result.run.id)).readMetrics();
  assert.deepEqual(metrics.map((record) => record.epoch), [1, 2]);
  assert.ok(metrics[1]!.trainLoss < metrics[0]!.trainLoss, `train loss per epoch: ${metrics.map((record) => record.trainLoss).join(', ')}`);
});

test('train --backend auto skips the software WebGPU adapter with its reason and trains on wasm', { skip: noSoftwareGpu }, async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 4, size: 32 });
  const run = await runCli(['train', project.root, '--epochs', '1', '--scale', '1', '--json'], { env: softwareGpuEnv() });
  assert.equal(run.code, 0, run.stderr);
  const { backend } = parseJson<TrainJson>(run).run;
  assert.equal(backend.name, 'wasm');
  const webgpu = backend.skipped.find((entry) => entry.name === 'webgpu');
  assert.match(webgpu?.reason ?? '', /SwiftShader driver [\d.]+, is software/);
  // The line the CLI prints without --json, and the UI shows.
  assert.match(describeBackend(backend), /^wasm \((\d+ threads?|\d+ replicas x 1 thread)\), first backend that loaded \[skipped tfjs-node-gpu: .*; webgpu: the WebGPU adapter Dawn offers, SwiftShader.*; tfjs-node: /);
});
