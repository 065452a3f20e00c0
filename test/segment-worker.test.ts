import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { EventPayload } from '../app/contract/channels.js';
import { unwrap } from '../app/contract/envelope.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { SEGMENTER_MODULE } from '../app/inference/worker/segmenter-host.js';
import { forkWorker, type WorkerChild } from '../app/jobs/worker-process.js';
import { createAppServices } from '../app/services/app-services.js';
import { CELLS_MODEL } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';

/** Real child processes, counted, and killable from the test once they report progress. */
function countingLauncher() {
  const started: { module: string; child: WorkerChild }[] = [];
  return { started, launch: (module: string) => {
    const child = forkWorker(module);
    started.push({ module, child });
    return child;
  } };
}

type Services = ReturnType<typeof createAppServices>;

async function runJob(launch: (module: string) => WorkerChild, request: Record<string, unknown>, onProgress?: (jobId: string, services: Services) => void) {
  // The inputs, the output folder and the model stand for what the user picked in dialogs.
  const picked = [...(request.inputs as string[]), request.output as string, request.model as string];
  const services = createAppServices({ launchWorker: launch, grants: { home: null, roots: picked } });
  const signal = new AbortController().signal;
  let jobId = '';
  const finished = new Promise<EventPayload<'job.finished'>>((resolve) =>
    services.events.subscribe((channel, payload) => {
      if (channel === 'job.progress' && (payload as EventPayload<'job.progress'>).jobId === jobId) onProgress?.(jobId, services);
      if (channel === 'job.finished' && (payload as EventPayload<'job.finished'>).jobId === jobId) resolve(payload as EventPayload<'job.finished'>);
    }),
  );
  const started = await services.registry.dispatch('segment.start', request, { signal });
  jobId = (unwrap(started) as { jobId: string }).jobId;
  return { services, result: (await finished).result };
}

test('batch segmentation runs in its own process and reports through the job', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 3, width: 64, height: 64 });
  const { started, launch } = countingLauncher();
  const { result } = await runJob(launch, { model: CELLS_MODEL, inputs: [data.imagesDir], output: path.join(dir, 'out'), classes: ['cell'], normalisation: 'unit', tile: 64 });
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal((result.value as { segmented: unknown[] }).segmented.length, 3);
  assert.deepEqual(started.map((entry) => entry.module), [SEGMENTER_MODULE]);
});

test('a segmentation process that dies is reported with its reason; cancel stops a running one', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 40, width: 64, height: 64 });
  const request = { model: CELLS_MODEL, inputs: [data.imagesDir], classes: ['cell'], normalisation: 'unit', tile: 64 };
  const killing = countingLauncher();
  const { result: crashed } = await runJob(killing.launch, { ...request, output: path.join(dir, 'crash') }, () => killing.started[0]!.child.kill());
  assert.equal(crashed.ok, false);
  assert.match(!crashed.ok ? crashed.error.message : '', /The segmentation process was killed \(SIGKILL\).*run the same job again/s);

  const { result: cancelled } = await runJob(countingLauncher().launch, { ...request, output: path.join(dir, 'cancel') }, (jobId, services) => services.jobs.cancel(jobId));
  assert.equal(!cancelled.ok && cancelled.error.code, 'cancelled');
});
