import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ContractClient } from '../app/contract/client.js';
import { unwrap } from '../app/contract/envelope.js';
import { createMemoryTransportPair } from '../app/contract/memory-transport.js';
import { serveContract } from '../app/contract/server.js';
import { TrainRequest } from '../app/contract/training.js';
import { loadCheckpoint } from '../app/engine/runs/checkpoint.js';
import { RunFolder } from '../app/engine/runs/run-store.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { train } from '../app/engine/training/trainer.js';
import { runTrainer } from '../app/engine/worker/trainer-host.js';
import { forkWorker, type WorkerChild } from '../app/jobs/worker-process.js';
import { loadLayersModel } from '../app/engine/model/model-files.js';
import { createAppServices } from '../app/services/app-services.js';
import { TINY_SETTINGS, tinyProject } from './support/tiny-project.js';
import { tempDir } from './support/temp-dir.js';

const request = (project: string, settings: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  TrainRequest.parse({ project, preset: 'fast', settings: { ...TINY_SETTINGS, ...settings }, ...extra });

test('3-class training in process: per-class Dice, a loadable best model, tensor count flat across epochs', async (t) => {
  const project = await tinyProject(await tempDir(t), { classes: 3, count: 10 });
  const { run } = await prepareRun(project, request(project.root, { epochs: 3 }));
  const records: { epoch: number; numTensors: number; perClass: unknown[] }[] = [];
  const summary = await train({ project, run, resume: false, signal: new AbortController().signal, onEpoch: (record) => records.push(record) });
  assert.equal(summary.state, 'completed');
  assert.deepEqual(records.map((record) => record.epoch), [1, 2, 3]);
  assert.equal(records[0]!.perClass.length, 3);
  assert.deepEqual((records[2]!.perClass as { name: string }[]).map((entry) => entry.name), ['background', 'cytoplasm', 'nucleus']);
  const counts = records.map((record) => record.numTensors);
  assert.ok(counts.every((count) => count === counts[0]), `tensors per epoch: ${counts.join(', ')}`);
  assert.equal(summary.backend?.name, 'wasm');
  const { model, metadata } = await loadLayersModel(path.join(run.dir, 'model'));
  assert.equal((metadata.unetStudio as { epoch: number }).epoch, summary.bestEpoch);
  assert.deepEqual(model.outputs[0]!.shape, [null, null, null, 3]);
  model.dispose();
  await fs.access(run.sampleFile(1));
});

test('SIGKILL of the trainer mid-epoch is reported; --resume continues with consistent epochs and metrics, streaming images from disk', async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 12 });
  // No cache: every batch is read from disk, before and after the kill. Two threads: batches of 2
  // train on 2 data-parallel replicas (on any machine), killed with the trainer and started again.
  const settings = { epochs: 4, batchSize: 2, cacheMiB: 0, threads: 2 };
  const { run } = await prepareRun(project, request(project.root, settings));
  let trainer: WorkerChild | undefined;
  const launcher = (module: string) => (trainer = forkWorker(module));
  const killed = runTrainer(launcher, { project: project.root, runId: run.id, resume: false }, {
    signal: new AbortController().signal,
    onStep: (step) => {
      if (step.epoch === 2 && step.step === 2) trainer!.kill();
    },
  });
  await assert.rejects(killed, /trainer process was killed \(SIGKILL\).*resume the run/s);
  const afterKill = await (await RunFolder.open(project, run.id)).readMetrics();
  assert.deepEqual(afterKill.map((record) => record.epoch), [1]);
  assert.equal((await loadCheckpoint(path.join(run.dir, 'checkpoint.bin'))).epoch, 1);

  const resumed = await prepareRun(project, request(project.root, {}, { resume: run.id }));
  assert.equal(resumed.resume, true);
  const summary = await runTrainer(forkWorker, { project: project.root, runId: run.id, resume: true }, { signal: new AbortController().signal });
  assert.equal(summary.state, 'completed');
  assert.equal(summary.epochsDone, 4);
  assert.equal(summary.backend?.replicas, 2);
  const metrics = await (await RunFolder.open(project, run.id)).readMetrics();
  assert.deepEqual(metrics.map((record) => record.epoch), [1, 2, 3, 4]);
  const lines = (await fs.readFile(path.join(run.dir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(lines.length, 4, 'no torn or duplicated lines');
  // The resumed epochs saw exactly the batches of a run that was never killed.
  const { run: whole } = await prepareRun(project, request(project.root, settings));
  await train({ project, run: whole, resume: false, signal: new AbortController().signal });
  const uninterrupted = await whole.readMetrics();
  assert.deepEqual(metrics.map((record) => record.trainLoss), uninterrupted.map((record) => record.trainLoss));
  assert.deepEqual(metrics.map((record) => record.valDice), uninterrupted.map((record) => record.valDice));
});

test('cancel through the contract stops training within one step and keeps the checkpoint', async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 16 });
  const services = createAppServices();
  const [clientEnd, hostEnd] = createMemoryTransportPair();
  serveContract(services.registry, hostEnd, services.events);
  const client = new ContractClient(clientEnd);
  const { jobId, runId } = unwrap(await client.invoke('train.start', { project: project.root, preset: 'fast', settings: { ...TINY_SETTINGS, epochs: 50, batchSize: 2, threads: 2 } }));
  const finished = new Promise<{ ok: boolean; error?: { code: string } }>((resolve) =>
    client.on('job.finished', (event) => event.jobId === jobId && resolve(event.result as never)),
  );
  const stepsAfterCancel: number[] = [];
  let cancelled = false;
  await new Promise<void>((resolve) => {
    client.on('train.epoch', () => resolve());
  });
  client.on('train.progress', (event) => {
    if (cancelled) stepsAfterCancel.push(event.step);
  });
  assert.deepEqual(unwrap(await client.invoke('jobs.cancel', { jobId })), { cancelled: true });
  cancelled = true;
  const result = await finished;
  assert.equal(result.error?.code, 'cancelled');
  assert.ok(stepsAfterCancel.length <= 1, `steps after cancel: ${stepsAfterCancel.length}`);
  const { runs } = unwrap(await client.invoke('runs.list', { project: project.root }));
  const summary = runs.find((entry) => entry.id === runId)!;
  assert.equal(summary.state, 'cancelled');
  assert.ok(summary.epochsDone >= 1 && summary.epochsDone < 50);
  assert.ok((await loadCheckpoint(path.join(project.root, 'runs', runId, 'checkpoint.bin'))).epoch >= 1);
  // The host keeps serving after the run ended.
  assert.equal(unwrap(await client.invoke('runs.metrics', { project: project.root, runId })).length, summary.epochsDone);
});

test('invalid training settings are refused before any process starts', async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 4 });
  const services = createAppServices();
  const bad = await services.registry.dispatch('train.start', { project: project.root, settings: { epochs: 0 } }, { signal: new AbortController().signal });
  assert.equal(!bad.ok && bad.error.code, 'invalid_input');
  const weights = await services.registry.dispatch('train.start', { project: project.root, settings: { classWeights: [1, 2, 3] } }, { signal: new AbortController().signal });
  assert.match(!weights.ok ? weights.error.message : '', /classWeights has 3 values but the project has 2 classes/);
  assert.deepEqual(await RunFolder.list(project), { runs: [], unreadable: [] });
});
