import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import { WebSocket } from 'ws';
import { ContractClient } from '../app/contract/client.js';
import { unwrap } from '../app/contract/envelope.js';
import { LiveSession, type LivePrediction, type LiveStatus } from '../app/contract/live.js';
import { IGNORE_LABEL, ImportRequest } from '../app/contract/schemas.js';
import { importImages } from '../app/dataset/import-images.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { processAlive } from '../app/jobs/process-alive.js';
import { createWebSocketTransport } from '../app/contract/websocket-transport.js';
import { startBrowserHost } from '../app/host/browser-host.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import { bindContract, type IpcMainLike } from '../main/ipc-binding.js';
import { imageRegionSource, imageSource } from '../app/inference/image-source.js';
import { liveLearningRate } from '../app/live/live-trainer.js';
import { PaintedPixels } from '../app/live/painted-pixels.js';
import { predictionRegions } from '../app/live/visible-first.js';
import { createRandom } from '../app/random/prng.js';
import { PageConnections } from '../main/page-connections.js';
import { FakeIpcMain, WINDOW_ID, fromMainFrame } from './support/fake-ipc-main.js';
import { contractStudio } from './support/contract-studio.js';
import { tempDir } from './support/temp-dir.js';

const SIZE = 64;

/** A scribble-mode project of synthetic cells imported without masks, served through the real contract. */
async function liveStudio(t: TestContext) {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 3, width: SIZE, height: SIZE });
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  await project.setScribble(true);
  await importImages(project, ImportRequest.parse({ project: project.root, images: [data.imagesDir] }));
  const { client, services } = contractStudio(t, dir);
  const statuses: LiveStatus[] = [];
  const predictions: LivePrediction[] = [];
  client.on('live.status', (status) => statuses.push(status));
  client.on('live.prediction', (prediction) => predictions.push(prediction));
  const ids = project.images.map((image) => image.id);
  // Strokes as the editor sends them: the true labels of a few rows (cells and background), the rest left unpainted.
  const paint = async (id: string, rows: number[]) => {
    const truth = await readMaskPng(path.join(data.masksDir, `${project.image(id).originalName}`));
    const tiles = rows.map((y) => ({ x: 0, y, width: SIZE, height: 1, encoding: 'deflate' as const, labelsBase64: deflateSync(truth.labels.subarray(y * SIZE, (y + 1) * SIZE)).toString('base64') }));
    return unwrap(await client.invoke('masks.patch', { project: project.root, id, tiles }));
  };
  return { dir, project, services, client, statuses, predictions, ids, paint };
}

async function until<T>(what: string, find: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('live training picks up a new stroke without a restart, predicts the current image, keeps its tensor count flat, saves a run and ends its process on stop', async (t) => {
  const { project, client, statuses, predictions, ids, paint } = await liveStudio(t);
  const [first, second] = ids as [string, string];
  assert.equal((await paint(first, [10, 20, 30, 40])).image.status, 'partial');

  const { sessionId, pid } = unwrap(await client.invoke('live.start', { project: project.root, imageId: first, predictEverySeconds: 1 }));
  assert.ok(pid !== null && processAlive(pid));
  const mine = () => statuses.filter((status) => status.sessionId === sessionId);
  const before = await until('training on the first strokes', () => mine().find((status) => status.steps >= 3));
  assert.deepEqual([before.images, before.labelledPixels, before.pid], [1, 4 * SIZE, pid]);
  assert.equal(os.getPriority(pid), os.constants.priority.PRIORITY_LOW, 'the live process runs below the UI');

  const prediction = await until('a prediction of the image in the editor', () => predictions.find((entry) => entry.sessionId === sessionId && entry.imageId === first));
  assert.deepEqual([prediction.map.width, prediction.map.height], [SIZE, SIZE]);
  const labels = inflateSync(Buffer.from(prediction.map.base64, 'base64'));
  assert.equal(labels.length, SIZE * SIZE);
  assert.ok(labels.every((label) => label === 0 || label === 1), 'a prediction holds class ids only');

  await paint(second, [5, 50]);
  const after = await until('the new stroke in training', () => mine().find((status) => status.images === 2));
  assert.equal(after.labelledPixels, 6 * SIZE);
  assert.equal(after.pid, pid, 'the same process (no restart)');
  assert.ok(after.steps > before.steps, 'training went on');
  const later = await until('more steps', () => mine().find((status) => status.steps >= after.steps + 5));
  assert.equal(later.tensors, after.tensors, `tensor count flat (${after.tensors} at step ${after.steps}, ${later.tensors} at step ${later.steps})`);

  // The editor shows part of another image: that part is predicted and sent first, then the whole image.
  const view = { x: 8, y: 4, width: 16, height: 20 };
  unwrap(await client.invoke('live.focus', { sessionId, imageId: second, view }));
  const ofSecond = () => predictions.filter((entry) => entry.sessionId === sessionId && entry.imageId === second);
  const partial = await until('a prediction of the part in view', () => ofSecond()[0]);
  assert.deepEqual(partial.region, view, 'the part in view comes first');
  const whole = await until('the whole image after it', () => ofSecond()[1]);
  assert.equal(whole.region, null);
  assert.equal(whole.step, partial.step, 'the same weights predict the rest');
  const [partLabels, wholeLabels] = [partial, whole].map((entry) => inflateSync(Buffer.from(entry.map.base64, 'base64')));
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const inView = x >= view.x && x < view.x + view.width && y >= view.y && y < view.y + view.height;
      const at = y * SIZE + x;
      assert.equal(partLabels![at], inView ? wholeLabels![at] : 0, `pixel ${x},${y}: the view's labels, nothing predicted yet elsewhere`);
    }
  }

  const { runId } = unwrap(await client.invoke('live.save', { sessionId }));
  const runs = unwrap(await client.invoke('runs.list', { project: project.root })).runs;
  const saved = runs.find((run) => run.id === runId);
  assert.equal(saved?.state, 'completed');
  assert.equal(saved?.modelPath, `runs/${runId}/model`);

  assert.deepEqual(unwrap(await client.invoke('live.stop', { sessionId })), { stopped: true });
  assert.equal(processAlive(pid), false, 'the process is gone once stop answers');
  assert.equal(mine().at(-1)?.state, 'stopped');
  assert.equal(mine().at(-1)?.reason, 'stopped');
  assert.deepEqual(unwrap(await client.invoke('live.stop', { sessionId })), { stopped: false });
});

test('a live session ends by itself after its idle time, and every session ends when the host closes', async (t) => {
  const { project, services, client, statuses, ids, paint } = await liveStudio(t);
  await paint(ids[0]!, [10, 30]);
  const idle = unwrap(await client.invoke('live.start', { project: project.root, imageId: ids[0]!, idleSeconds: 5 }));
  const open = unwrap(await client.invoke('live.start', { project: project.root, imageId: null }));
  const ended = await until('the idle session to end', () => statuses.find((status) => status.sessionId === idle.sessionId && status.state === 'stopped'), 60_000);
  assert.equal(ended.reason, 'idle');
  assert.equal(processAlive(idle.pid!), false);
  assert.ok(processAlive(open.pid!));
  await services.close();
  assert.equal(processAlive(open.pid!), false, 'closing the host ends the live process');
  assert.equal(statuses.filter((status) => status.sessionId === open.sessionId).at(-1)?.reason, 'closed');
});

test('the parts of an image are predicted in view first, then the bands around it, each pixel once', () => {
  const count = (width: number, height: number, view: { x: number; y: number; width: number; height: number } | null) => {
    const regions = predictionRegions(width, height, view);
    const covered = new Uint8Array(width * height);
    for (const region of regions) for (let y = region.y; y < region.y + region.height; y++) for (let x = region.x; x < region.x + region.width; x++) covered[y * width + x]! += 1;
    assert.ok(covered.every((times) => times === 1), 'every pixel exactly once');
    return regions;
  };
  assert.deepEqual(count(100, 80, null), [{ x: 0, y: 0, width: 100, height: 80 }]);
  assert.deepEqual(count(100, 80, { x: 0, y: 0, width: 90, height: 80 }), [{ x: 0, y: 0, width: 100, height: 80 }], 'a view of most of the image: one pass');
  assert.deepEqual(count(100, 80, { x: 30, y: 20, width: 20, height: 10 })[0], { x: 30, y: 20, width: 20, height: 10 });
  assert.equal(count(100, 80, { x: 30, y: 20, width: 20, height: 10 }).length, 5);
  assert.deepEqual(count(100, 80, { x: 70, y: 60, width: 50, height: 50 })[0], { x: 70, y: 60, width: 30, height: 20 }, 'clipped to the image');
  assert.equal(count(100, 80, { x: 0, y: 0, width: 30, height: 80 }).length, 2, 'a view along the left edge leaves one band');
});

test('painted classes weigh the same in the live loss, and new paint restarts the learning rate', () => {
  const painted = new PaintedPixels(1, createRandom(3).next);
  const labels = new Uint8Array(200).fill(IGNORE_LABEL);
  labels.fill(0, 0, 100); // much background
  labels.fill(1, 100, 110); // a thin stroke of cell
  painted.update('a', 20, 10, new Float32Array(200), labels);
  const [background, cell] = painted.classWeights(3);
  assert.ok(Math.abs(background! * 100 - cell! * 10) < 1e-9, 'both classes weigh the same in total');
  assert.ok(Math.abs(background! * 100 + cell! * 10 - 110) < 1e-9, 'the weights average 1 over the painted pixels');
  assert.equal(painted.classWeights(3)[2], 1, 'an unpainted class keeps weight 1');
  const changes = painted.changes;
  painted.update('a', 20, 10, null, labels);
  assert.equal(painted.changes, changes, 'the same labels again are nothing new');
  painted.update('a', 20, 10, null, Uint8Array.from(labels).fill(IGNORE_LABEL, 100, 105));
  assert.equal(painted.changes, changes + 1, 'erasing is new');
  assert.equal(liveLearningRate(2e-3, 0), 2e-3);
  assert.ok(Math.abs(liveLearningRate(2e-3, 60) - 1e-3) < 1e-12, 'halved after 60 steps');
  assert.equal(liveLearningRate(2e-3, 10_000), 2e-4, 'never below a tenth');
});

test('a region of an image source reads the whole image\'s pixels, normalised as the whole image is', () => {
  const width = 40;
  const height = 30;
  const data = new Uint16Array(width * height).map((_, i) => (i * 37) % 4096);
  const raster = { width, height, channels: 1 as const, bitDepth: 16 as const, data };
  const whole = imageSource(raster, { inputChannels: 1, normalisation: 'unit' }, { mode: 'scale', scale: 1 }, 'studio');
  const region = imageRegionSource(whole, { x: 7, y: 5, width: 20, height: 12 });
  assert.deepEqual([region.width, region.height, region.sizedWidth, region.sizedHeight], [20, 12, 20, 12]);
  assert.deepEqual(region.region(3, 2, 10, 6), whole.region(10, 7, 10, 6));
  assert.deepEqual(region.displayRow(4), whole.displayRow(9).subarray(7 * 3, 27 * 3));
});

test('a live process ends when the page that started it is gone: a closed browser tab, a closed or reloaded window', async (t) => {
  const { dir, project, ids, paint } = await liveStudio(t);
  await paint(ids[0]!, [10, 30]);
  const services = createAppServices({ browseHome: dir });
  t.after(() => services.close());
  const statuses: LiveStatus[] = [];
  services.events.on('live.status', (status) => statuses.push(status));
  /** Waits until the session trains, then until its process is gone once `disconnect` has run. */
  const endsWith = async (session: { sessionId: string; pid: number | null }, disconnect: () => void) => {
    assert.ok(session.pid !== null && processAlive(session.pid));
    await until('the session to train', () => statuses.find((status) => status.sessionId === session.sessionId && status.state === 'training'));
    disconnect();
    const ended = await until('the session to end', () => statuses.find((status) => status.sessionId === session.sessionId && status.state === 'stopped'), 60_000);
    assert.equal(ended.reason, 'disconnected');
    assert.equal(processAlive(session.pid), false, 'its process is gone');
  };
  const start = { project: project.root, imageId: ids[0]!, predictEverySeconds: 1 };

  // Browser mode: the tab's WebSocket closes.
  const staticDir = path.join(dir, 'static');
  await mkdir(staticDir);
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>studio</title>');
  const host = await startBrowserHost({ registry: services.registry, events: services.events, staticDir });
  t.after(() => host.close());
  const socket = new WebSocket(`ws://127.0.0.1:${host.port}/contract?token=${host.token}`, { origin: `http://127.0.0.1:${host.port}` });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const tab = new ContractClient(createWebSocketTransport(socket));
  await endsWith(unwrap(await tab.invoke('live.start', start)), () => socket.terminate());

  // Desktop: the window's page reloads, then the window closes.
  const ipc = new FakeIpcMain();
  const pages = new PageConnections();
  const contents = Object.assign(new EventEmitter(), { id: WINDOW_ID });
  pages.watch(contents);
  bindContract(ipc as unknown as IpcMainLike, { registry: services.registry, isAppWindow: (id) => id === WINDOW_ID, connection: (id) => pages.signal(id) });
  const startInWindow = async () => {
    const answer = await ipc.invoke('live.start', fromMainFrame(), start, 'live');
    assert.ok(answer.ok, JSON.stringify(answer));
    return LiveSession.parse(answer.value);
  };
  await endsWith(await startInWindow(), () => contents.emit('did-navigate'));
  await endsWith(await startInWindow(), () => contents.emit('destroyed'));
});
