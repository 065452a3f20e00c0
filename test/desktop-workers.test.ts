// Workers (training, batch segmentation, imports, predictions, model export) in Electron utility
// processes (main/utility-worker.ts). Electron cannot start here, so `utilityProcess.fork` is played
// by a stand-in: once by a scripted crash, else by a real Node child process that runs the real
// utility entry with a `process.parentPort` like Electron's.
import assert from 'node:assert/strict';
import { execFile, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { test } from 'node:test';
import type { EventPayload } from '../app/contract/channels.js';
import { EventBus } from '../app/contract/event-bus.js';
import { RunSummary, TrainRequest } from '../app/contract/training.js';
import { TrainingService } from '../app/engine/training-service.js';
import { JobManager } from '../app/jobs/job-manager.js';
import { OpenProjects } from '../app/project/open-projects.js';
import { TRAINER_MODULE } from '../app/engine/worker/trainer-host.js';
import { type ForkUtility, UTILITY_WORKER_ENTRY, type UtilityChild, utilityWorkerLauncher } from '../main/utility-worker.js';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ModelExportResult } from '../app/contract/model-export.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { IMPORTER_MODULE } from '../app/dataset/worker/importer-host.js';
import { EXPORTER_MODULE } from '../app/export/worker/exporter-host.js';
import { PREDICTOR_MODULE } from '../app/inference/worker/predictor-host.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import { bindContract, type IpcMainLike } from '../main/ipc-binding.js';
import { FakeIpcMain, WINDOW_ID, fromMainFrame } from './support/fake-ipc-main.js';
import { noSoftwareGpu, softwareGpuEnv } from './support/software-gpu.js';
import { tempDir } from './support/temp-dir.js';
import { untrainedRun } from './support/untrained-run.js';
import { TINY_SETTINGS, tinyProject } from './support/tiny-project.js';

function services(launcher: ReturnType<typeof utilityWorkerLauncher>) {
  const events = new EventBus();
  const jobs = new JobManager(events);
  const training = new TrainingService(jobs, events, new OpenProjects(), launcher);
  const finished = new Promise<EventPayload<'job.finished'>>((resolve) =>
    events.subscribe((channel, payload) => channel === 'job.finished' && resolve(payload as EventPayload<'job.finished'>)),
  );
  return { training, finished };
}

test('a crashing trainer utility process reaches the job as an error with its reason', async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(dir, { count: 4, size: 32 });
  const forks: Array<{ modulePath: string; args: string[] | undefined; options: unknown; posted: unknown[]; killed: boolean }> = [];
  const crashingFork: ForkUtility = (modulePath, args, options) => {
    const record = { modulePath, args, options, posted: [] as unknown[], killed: false };
    forks.push(record);
    const stderr = new PassThrough();
    const child = Object.assign(new EventEmitter(), {
      stderr,
      postMessage(message: unknown) {
        record.posted.push(message);
        setTimeout(() => {
          stderr.write('FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n');
          child.emit('error', 'FatalError', 'v8::internal::Heap', '{}');
          setTimeout(() => child.emit('exit', 134), 10);
        }, 10);
      },
      kill() {
        record.killed = true;
        return true;
      },
    });
    return child as unknown as UtilityChild;
  };
  const { training, finished } = services(utilityWorkerLauncher(crashingFork));
  const { jobId } = await training.start(TrainRequest.parse({ project: project.root, preset: 'fast', settings: { ...TINY_SETTINGS, epochs: 1 } }));
  const done = await finished;
  assert.equal(done.jobId, jobId);
  assert.equal(done.result.ok, false);
  const message = done.result.ok ? '' : done.result.error.message;
  assert.match(message, /exited with code 134/);
  assert.match(message, /FatalError at v8::internal::Heap/);
  assert.match(message, /heap out of memory/);
  assert.match(message, /checkpoint is kept/);
  assert.equal(forks[0]!.modulePath, UTILITY_WORKER_ENTRY);
  assert.deepEqual(forks[0]!.args, [TRAINER_MODULE]);
  assert.deepEqual(forks[0]!.options, { serviceName: 'U-Net Studio worker 1', stdio: ['ignore', 'ignore', 'pipe'] });
  assert.equal((forks[0]!.posted[0] as { type: string }).type, 'start');
});

/**
 * Gives a Node child the `process.parentPort` Electron gives a utility process: messages from the
 * host arrive as `{ data }` and wait in a queue until the first 'message' listener is added.
 */
const PARENT_PORT_SHIM = `data:text/javascript,${encodeURIComponent(`
import { EventEmitter } from 'node:events';
import { isMainThread } from 'node:worker_threads';
// Worker threads inherit --import; only the process itself gets a parentPort.
if (isMainThread) {
const port = new EventEmitter();
const send = process.send.bind(process);
const queued = [];
let started = false;
port.postMessage = (message) => send(message);
port.on('newListener', (event) => {
  if (event !== 'message' || started) return;
  started = true;
  setImmediate(() => queued.splice(0).forEach((data) => port.emit('message', { data })));
});
process.on('message', (message) => {
  if (!message || typeof message !== 'object' || !('fromHost' in message)) return;
  if (started) port.emit('message', { data: message.fromHost });
  else queued.push(message.fromHost);
});
process.parentPort = port;
}
`)}`;

/** A utility process as Electron starts one: it inherits the app's environment (here plus `env`). */
const nodeUtilityFork = (env: Record<string, string> = {}): ForkUtility => (modulePath, args) => {
  const child = fork(modulePath, args ?? [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: ['--import', PARENT_PORT_SHIM], env: { ...process.env, ...env } });
  const emitter = new EventEmitter();
  child.on('message', (message) => emitter.emit('message', message));
  child.on('exit', (code) => emitter.emit('exit', code ?? 1));
  return Object.assign(emitter, {
    stderr: child.stderr,
    postMessage: (message: unknown) => child.connected && child.send({ fromHost: message }),
    kill: () => child.kill(),
  }) as unknown as UtilityChild;
};

test('the utility entry runs the real trainer over parentPort and the run finishes', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(dir, { count: 6, size: 32 });
  const { training, finished } = services(utilityWorkerLauncher(nodeUtilityFork()));
  const { runId } = await training.start(TrainRequest.parse({ project: project.root, preset: 'fast', model: { base: 8 }, settings: { ...TINY_SETTINGS, epochs: 1 } }));
  const done = await finished;
  assert.ok(done.result.ok, JSON.stringify(done.result));
  assert.equal((done.result.value as { id: string }).id, runId);
});

test('a utility-process trainer loads Dawn as the CLI\'s trainer does and trains on webgpu', { timeout: 300_000, skip: noSoftwareGpu }, async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 4, size: 16 });
  const { training, finished } = services(utilityWorkerLauncher(nodeUtilityFork(softwareGpuEnv())));
  await training.start(TrainRequest.parse({ project: project.root, preset: 'fast', settings: { ...TINY_SETTINGS, epochs: 1, backend: 'webgpu' } }));
  const done = await finished;
  assert.ok(done.result.ok, JSON.stringify(done.result));
  const summary = RunSummary.parse(done.result.value);
  assert.equal(summary.state, 'completed');
  assert.equal(summary.backend?.name, 'webgpu');
  assert.equal(summary.backend?.adapter?.architecture, 'swiftshader');
});

test("main's handlers for imports, model export and predictions delegate to utility processes; main only records the index", { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const forks: string[][] = [];
  const recordingFork: ForkUtility = (modulePath, args, options) => {
    assert.equal(modulePath, UTILITY_WORKER_ENTRY);
    forks.push(args ?? []);
    return nodeUtilityFork()(modulePath, args, options);
  };
  const services = createAppServices({ launchWorker: utilityWorkerLauncher(recordingFork), browseHome: dir });
  const ipc = new FakeIpcMain();
  bindContract(ipc as unknown as IpcMainLike, { registry: services.registry, isAppWindow: (id) => id === WINDOW_ID });
  const invoke = async (channel: string, payload: unknown) => {
    const answer = await ipc.invoke(channel, fromMainFrame(), payload, `r${forks.length}`);
    assert.ok(answer.ok, `${channel}: ${JSON.stringify(answer)}`);
    return answer.value;
  };
  const started = async (channel: string, payload: unknown) => z.object({ jobId: z.string() }).parse(await invoke(channel, payload)).jobId;
  const finished = (jobId: string) =>
    new Promise<EventPayload<'job.finished'>>((resolve) => {
      const stop = services.events.on('job.finished', (event) => {
        if (event.jobId !== jobId) return;
        stop();
        resolve(event);
      });
    });
  const root = path.join(dir, 'cells');
  await invoke('project.create', { path: root, classes: ['cell'] });
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 3, width: 32, height: 32 });

  const imported = await finished(await started('import.start', { project: root, images: [data.imagesDir] }));
  assert.ok(imported.kind === 'import' && imported.result.ok, JSON.stringify(imported));
  assert.equal(imported.result.value.imported, 3);
  assert.deepEqual(forks.at(-1), [IMPORTER_MODULE]);
  const project = await services.projects.get(root);
  assert.deepEqual(project.images.map((image) => image.status), ['unlabelled', 'unlabelled', 'unlabelled'], 'the host added the entries');

  const runId = await untrainedRun(project);
  const exported = ModelExportResult.parse(await invoke('model.export', { project: root, format: 'tfjs', out: path.join(dir, 'web') }));
  assert.deepEqual(forks.at(-1), [EXPORTER_MODULE]);
  assert.equal(exported.runId, runId);
  await fs.access(path.join(dir, 'web', 'model.json'));

  const predicted = await finished(await started('predictions.run', { project: root, tile: 32, overlap: 0 }));
  assert.ok(predicted.kind === 'predict' && predicted.result.ok, JSON.stringify(predicted));
  assert.equal(predicted.result.value.predicted, 3);
  assert.deepEqual(forks.at(-1), [PREDICTOR_MODULE]);
  const reread = await Project.open(root);
  assert.ok(reread.images.every((image) => image.status === 'predicted' && image.prediction?.runId === runId), 'the host recorded each prediction');
  assert.equal(forks.length, 3, 'one utility process per job');
  await services.close();
});

test('the services main binds load neither TensorFlow.js nor onnxruntime: that work is the workers\'', async () => {
  const services = new URL('../app/services/app-services.js', import.meta.url).href;
  const probe = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(services)});
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((file) => /node_modules[\\\\/](@tensorflow|onnxruntime-node)[\\\\/]/.test(file));
    console.log(JSON.stringify(loaded));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe]);
  assert.deepEqual(JSON.parse(stdout), []);
});
