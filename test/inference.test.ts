import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ContractClient } from '../app/contract/client.js';
import { unwrap } from '../app/contract/envelope.js';
import { createMemoryTransportPair } from '../app/contract/memory-transport.js';
import { serveContract } from '../app/contract/server.js';
import { ImportRequest } from '../app/contract/schemas.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { importImages } from '../app/dataset/import-images.js';
import { cleanUpLabels } from '../app/inference/clean-up.js';
import { segmentImage } from '../app/inference/segment-image.js';
import { blendRamp, planAxis } from '../app/inference/tile-plan.js';
import { readRaster } from '../app/imaging/read-image.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import { CELLS_MODEL, loadCellsModel } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';
import { tinyProject } from './support/tiny-project.js';

const SETTINGS = { threshold: 0.5, fillHoles: false, minObjectPixels: 0, connectivity: 8 as const, tta: false };

test('tiles cover the axis, overlap as asked, and blend weights sum smoothly', () => {
  const plan = planAxis(1000, 256, 64, null, 16);
  assert.equal(plan.extent, 256);
  assert.equal(plan.starts[0], 0);
  assert.equal(plan.starts.at(-1), 1000 - 256);
  for (let i = 1; i < plan.starts.length; i++) assert.ok(plan.starts[i - 1]! + 256 - plan.starts[i]! >= 64);
  assert.deepEqual(planAxis(100, 256, 64, null, 16), { starts: [0], extent: 112, overlap: 0 }, 'short axis: one tile padded to a multiple of 16');
  assert.deepEqual(planAxis(100, 256, 64, null, 1), { starts: [0], extent: 100, overlap: 0 }, 'a model that takes any size: no padding');
  assert.equal(planAxis(1000, 256, 64, null, 96).extent, 192, 'tiles are whole multiples of what the model needs');
  const ramp = blendRamp(256, 64, true, true);
  assert.ok(ramp[0]! > 0 && ramp[0]! < 0.01 && ramp[128] === 1 && ramp[255]! < 0.01);
  // Two neighbours overlapping by exactly the ramp: the weights add up to 1 across the overlap.
  const next = blendRamp(256, 64, true, false);
  for (let i = 0; i < 64; i++) assert.ok(Math.abs(ramp[192 + i]! + next[i]! - 1) < 1e-6);
});

test('tiled inference agrees with whole-image inference on >= 99.5% of pixels (image larger than a tile)', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: dir, count: 1, width: 416, height: 352, seed: 5 });
  const raster = await readRaster(data.images[0]!, { maxPixels: 1e8 });
  const model = await loadCellsModel();
  t.after(() => model.session.release());
  const whole = await segmentImage(model.session, model.description, raster, { settings: { ...SETTINGS, tile: 512, overlap: 0 } });
  const tiled = await segmentImage(model.session, model.description, raster, { settings: { ...SETTINGS, tile: 96, overlap: 32 } });
  let agree = 0;
  for (let i = 0; i < whole.map.labels.length; i++) agree += whole.map.labels[i] === tiled.map.labels[i] ? 1 : 0;
  const fraction = agree / whole.map.labels.length;
  assert.ok(fraction >= 0.995, `tiled vs whole agree on ${(100 * fraction).toFixed(3)}%`);
  const truth = await readMaskPng(data.masks[0]!);
  const correct = tiled.map.labels.reduce((sum, label, i) => sum + (label === truth.labels[i] ? 1 : 0), 0) / truth.labels.length;
  assert.ok(correct > 0.97, `the model really segments: ${correct}`);
  assert.ok(tiled.meanConfidence > 0.8 && tiled.meanConfidence <= 1);
});

test('clean-up fills enclosed holes and removes small objects, with the stated connectivity', () => {
  // 0 = background. A ring of 1 with a hole, a lone pixel, and two pixels touching only at a corner.
  const rows = [
    '0000000000',
    '0111100000',
    '0100100010',
    '0111100000',
    '0000000000',
    '0000001000',
    '0000000100',
  ];
  const make = () => ({ width: 10, height: rows.length, labels: Uint8Array.from(rows.join(''), (c) => Number(c)) });
  const filled = make();
  cleanUpLabels(filled, { fillHoles: true, minObjectPixels: 0, connectivity: 8 });
  assert.equal(filled.labels[2 * 10 + 2], 1);
  assert.equal(filled.labels[2 * 10 + 3], 1);
  assert.equal(filled.labels[0], 0, 'background touching the border is not a hole');

  const eight = make();
  cleanUpLabels(eight, { fillHoles: false, minObjectPixels: 2, connectivity: 8 });
  assert.equal(eight.labels[2 * 10 + 8], 0, 'lone pixel removed');
  assert.equal(eight.labels[5 * 10 + 6], 1, 'diagonal pair is one 2-pixel object with 8-connectivity');
  const four = make();
  cleanUpLabels(four, { fillHoles: false, minObjectPixels: 2, connectivity: 4 });
  assert.equal(four.labels[5 * 10 + 6], 0, 'diagonal pair is two 1-pixel objects with 4-connectivity');
  assert.equal(four.labels[1 * 10 + 1], 1, 'the ring stays');
});

test('predictions.run: unlabelled images get predictions and mean confidence; human masks are never touched', async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(dir, { count: 3, size: 64 });
  const unlabelled = await generateSynthetic({ outDir: path.join(dir, 'more'), count: 3, width: 64, height: 80, seed: 7 });
  await importImages(project, ImportRequest.parse({ project: project.root, images: [unlabelled.imagesDir] }));
  const maskBytes = new Map(await Promise.all(project.images.filter((image) => image.mask).map(async (image) => [image.id, await fs.readFile(await project.resolve(image.mask!))] as const)));
  assert.equal(maskBytes.size, 3);

  // The page may use the test's folder and the committed model, as if the host were started with --allow.
  const services = createAppServices({ grants: { home: dir, roots: [CELLS_MODEL] } });
  t.after(() => services.close());
  const [clientEnd, hostEnd] = createMemoryTransportPair();
  serveContract(services.registry, hostEnd, services.events);
  const client = new ContractClient(clientEnd);
  const imported = unwrap(await client.invoke('models.import', { project: project.root, file: CELLS_MODEL, classes: ['cell'], normalisation: 'unit', name: 'torch' }));
  assert.deepEqual(imported.model.classes.map((entry) => entry.name), ['background', 'cell']);
  const { jobId } = unwrap(await client.invoke('predictions.run', { project: project.root, model: 'torch' }));
  const result = await new Promise<{ ok: boolean; value?: { predicted: number; humanLabelled: number }; error?: unknown }>((resolve) =>
    client.on('job.finished', (event) => event.jobId === jobId && resolve(event.result as never)),
  );
  assert.ok(result.ok, JSON.stringify(result.error));
  assert.equal(result.value!.predicted, 3);
  assert.equal(result.value!.humanLabelled, 3);

  const reopened = await Project.open(project.root);
  for (const image of reopened.images) {
    if (maskBytes.has(image.id)) {
      assert.equal(image.status, 'labelled');
      assert.ok(!image.prediction, 'labelled images are not predicted');
      assert.deepEqual(await fs.readFile(await reopened.resolve(image.mask!)), maskBytes.get(image.id));
      await assert.rejects(fs.access(await reopened.resolve(`predictions/${image.id}.png`)));
    } else {
      assert.equal(image.status, 'predicted');
      assert.equal(image.mask, null);
      assert.equal(image.prediction!.runId, 'torch');
      assert.ok(image.prediction!.meanConfidence > 0.5 && image.prediction!.meanConfidence <= 1, `confidence ${image.prediction!.meanConfidence}`);
      const map = await readMaskPng(await reopened.resolve(image.prediction!.file));
      assert.deepEqual([map.width, map.height], [image.width, image.height]);
      const truth = await readMaskPng(path.join(unlabelled.masksDir, image.originalName));
      const agree = map.labels.reduce((sum, label, i) => sum + (label === truth.labels[i] ? 1 : 0), 0) / map.labels.length;
      assert.ok(agree > 0.95, `prediction agrees with the drawn cells on ${agree}`);
    }
  }

  // A person labels a predicted image: predicting again leaves it alone.
  const labelledNow = reopened.images.find((image) => image.status === 'predicted')!;
  const live = await services.projects.get(project.root);
  await live.writeMask(labelledNow.id, { width: labelledNow.width, height: labelledNow.height, labels: new Uint8Array(labelledNow.width * labelledNow.height) });
  const second = unwrap(await client.invoke('predictions.run', { project: project.root, model: 'torch' }));
  const again = await new Promise<{ ok: boolean; value?: { predicted: number; humanLabelled: number } }>((resolve) =>
    client.on('job.finished', (event) => event.jobId === second.jobId && resolve(event.result as never)),
  );
  assert.equal(again.value!.predicted, 2);
  assert.equal(live.image(labelledNow.id).status, 'labelled');
});
