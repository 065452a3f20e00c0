import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ContractClient } from '../app/contract/client.js';
import { unwrap } from '../app/contract/envelope.js';
import { createMemoryTransportPair } from '../app/contract/memory-transport.js';
import type { JobProgress } from '../app/contract/schemas.js';
import { serveContract } from '../app/contract/server.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { createAppServices } from '../app/services/app-services.js';
import { tempDir } from './support/temp-dir.js';

/** Services as browser mode sets them up, with `home` (a temp folder) as the folder the page may use. */
function connect(home: string) {
  const services = createAppServices({ browseHome: home });
  const [clientEnd, hostEnd] = createMemoryTransportPair();
  serveContract(services.registry, hostEnd, services.events);
  return { services, client: new ContractClient(clientEnd) };
}

function finished(client: ContractClient, jobId: string) {
  return new Promise<{ ok: boolean; error?: { code: string } }>((resolve) => {
    const stop = client.on('job.finished', (payload) => {
      if (payload.jobId !== jobId) return;
      stop();
      resolve(payload.result as { ok: boolean; error?: { code: string } });
    });
  });
}

test('an import job over the contract reports throttled progress and finishes with its report', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 12, width: 48, height: 48 });
  const { client } = connect(dir);
  const root = path.join(dir, 'p');
  unwrap(await client.invoke('project.create', { path: root, classes: ['cell'] }));
  const progress: JobProgress[] = [];
  client.on('job.progress', (event) => progress.push(event));
  const { jobId } = unwrap(await client.invoke('import.start', { project: root, images: [data.imagesDir], masks: data.masksDir }));
  const result = await finished(client, jobId);
  assert.equal(result.ok, true);
  assert.deepEqual((result as unknown as { value: { labelled: number } }).value.labelled, 12);
  assert.ok(progress.length >= 1 && progress.length < 12, `${progress.length} progress events for 12 files`);
  assert.deepEqual(progress.at(-1)!.done, 12, 'the last progress event is never dropped');
  const listed = unwrap(await client.invoke('images.list', { project: root, limit: 5 }));
  assert.equal(listed.total, 12);
  assert.equal(listed.items.length, 5);
  const thumb = unwrap(await client.invoke('images.thumbnail', { project: root, id: listed.items[0]!.id }));
  assert.equal(Buffer.from(thumb.base64, 'base64').subarray(8, 12).toString(), 'WEBP');
  const jobs = unwrap(await client.invoke('jobs.list', {}));
  assert.equal(jobs.find((job) => job.id === jobId)?.state, 'succeeded');
});

test('a job cancelled through the contract stops and keeps what it finished', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 60, width: 96, height: 96 });
  const { client } = connect(dir);
  const root = path.join(dir, 'p');
  unwrap(await client.invoke('project.create', { path: root, classes: ['cell'] }));
  const { jobId } = unwrap(await client.invoke('import.start', { project: root, images: [data.imagesDir], masks: data.masksDir }));
  const done = finished(client, jobId);
  await new Promise<void>((resolve) => {
    const stop = client.on('job.progress', (event) => {
      if (event.done >= 3) {
        stop();
        resolve();
      }
    });
  });
  assert.deepEqual(unwrap(await client.invoke('jobs.cancel', { jobId })), { cancelled: true });
  const result = await done;
  assert.equal(result.error?.code, 'cancelled');
  const { counts } = unwrap(await client.invoke('project.open', { path: root }));
  assert.ok(counts.images >= 3 && counts.images < 60, `kept ${counts.images} images`);
  assert.equal(unwrap(await client.invoke('jobs.list', {})).find((job) => job.id === jobId)?.state, 'cancelled');
  assert.deepEqual(unwrap(await client.invoke('jobs.cancel', { jobId })), { cancelled: false }, 'a finished job cannot be cancelled again');
});

test('service errors arrive as envelopes naming the problem', async (t) => {
  const dir = await tempDir(t);
  const { client } = connect(dir);
  const missing = await client.invoke('project.open', { path: path.join(dir, 'none') });
  assert.equal(!missing.ok && missing.error.code, 'not_found');
  const root = path.join(dir, 'p');
  unwrap(await client.invoke('project.create', { path: root, classes: ['cell'] }));
  const thumb = await client.invoke('images.thumbnail', { project: root, id: '../../etc/passwd' });
  assert.equal(!thumb.ok && thumb.error.code, 'not_found');
});
