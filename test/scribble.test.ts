import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { ContractClient } from '../app/contract/client.js';
import { unwrap } from '../app/contract/envelope.js';
import { ExportDatasetRequest, ImportRequest } from '../app/contract/schemas.js';
import { exportDataset } from '../app/dataset/export-dataset.js';
import { importImages } from '../app/dataset/import-images.js';
import { encodeMaskPng, readMaskPng } from '../app/masks/mask-png.js';
import { Project } from '../app/project/project.js';
import { contractStudio } from './support/contract-studio.js';
import { tempDir } from './support/temp-dir.js';

/** Two plain 40x30 images imported without masks into a new one-class project. */
async function twoImages(client: ContractClient, dir: string): Promise<{ projectDir: string; ids: string[] }> {
  const projectDir = path.join(dir, 'p');
  unwrap(await client.invoke('project.create', { path: projectDir, classes: ['cell'] }));
  const imageDir = path.join(dir, 'imgs');
  await fs.mkdir(imageDir);
  for (const [name, grey] of [['a.png', '#606060'], ['b.png', '#a0a0a0']] as const) {
    await sharp({ create: { width: 40, height: 30, channels: 3, background: grey } }).png().toFile(path.join(imageDir, name));
  }
  const done = new Promise<void>((resolve) => client.on('job.finished', () => resolve()));
  unwrap(await client.invoke('import.start', { project: projectDir, images: [imageDir] }));
  await done;
  const ids = unwrap(await client.invoke('images.list', { project: projectDir })).items.map((image) => image.id);
  return { projectDir, ids };
}

const stroke = (value: number) => ({ x: 5, y: 5, width: 4, height: 2, encoding: 'deflate' as const, labelsBase64: deflateSync(new Uint8Array(8).fill(value)).toString('base64') });

test('scribble mode: unpainted pixels stay 255, the image is partly labelled and counted; without it they are background', async (t) => {
  const dir = await tempDir(t);
  const { client } = contractStudio(t, dir);
  const { projectDir, ids } = await twoImages(client, dir);
  const [scribbled, plain] = ids as [string, string];
  const summary = unwrap(await client.invoke('project.setScribble', { project: projectDir, scribble: true }));
  assert.equal(summary.settings.scribble, true);
  // The second image opts out of the project's scribble mode on its own.
  unwrap(await client.invoke('images.update', { project: projectDir, ids: [plain], scribble: false }));

  const partial = unwrap(await client.invoke('masks.patch', { project: projectDir, id: scribbled, tiles: [stroke(1)] }));
  assert.equal(partial.image.status, 'partial');
  const full = unwrap(await client.invoke('masks.patch', { project: projectDir, id: plain, tiles: [stroke(1)] }));
  assert.equal(full.image.status, 'labelled');

  const stored = unwrap(await client.invoke('masks.get', { project: projectDir, id: scribbled }));
  const labels = new Uint8Array(inflateSync(Buffer.from(stored.base64, 'base64')));
  assert.equal(labels.filter((label) => label === 1).length, 8);
  assert.equal(labels.filter((label) => label === 255).length, 40 * 30 - 8, 'every unpainted pixel is unlabelled');
  const other = await readMaskPng(path.join(projectDir, 'masks', `${plain}.png`));
  assert.equal(other.labels.filter((label) => label === 0).length, 40 * 30 - 8, 'outside scribble mode unpainted pixels are background');

  // Painting the background class too keeps 255 elsewhere; painting background over all of it makes it labelled.
  const more = unwrap(await client.invoke('masks.patch', { project: projectDir, id: scribbled, tiles: [{ ...stroke(0), x: 20 }] }));
  assert.equal(more.image.status, 'partial');
  const everything = { x: 0, y: 0, width: 40, height: 30, encoding: 'deflate' as const, labelsBase64: deflateSync(new Uint8Array(1200)).toString('base64') };
  assert.equal(unwrap(await client.invoke('masks.patch', { project: projectDir, id: scribbled, tiles: [everything] })).image.status, 'labelled');
  unwrap(await client.invoke('masks.patch', { project: projectDir, id: scribbled, tiles: [{ ...stroke(255), x: 0 }] }));

  const counted = unwrap(await client.invoke('project.open', { path: projectDir }));
  assert.deepEqual([counted.counts.partial, counted.counts.labelled, counted.counts.unlabelled], [1, 1, 0]);
  const listed = unwrap(await client.invoke('images.list', { project: projectDir, status: 'partial' }));
  assert.deepEqual(listed.items.map((image) => image.id), [scribbled]);
});

test('scribble mode survives import and export: 255 in an imported mask means partly labelled; export keeps 255 or skips the image', async (t) => {
  const dir = await tempDir(t);
  const imageDir = path.join(dir, 'imgs');
  const maskDir = path.join(dir, 'masks');
  await fs.mkdir(imageDir);
  await fs.mkdir(maskDir);
  await sharp({ create: { width: 20, height: 10, channels: 3, background: '#808080' } }).png().toFile(path.join(imageDir, 'x.png'));
  const labels = new Uint8Array(200).fill(255);
  labels.fill(1, 0, 20);
  labels.fill(0, 180, 200);
  await fs.writeFile(path.join(maskDir, 'x.png'), await encodeMaskPng({ width: 20, height: 10, labels }));

  const project = await Project.create(path.join(dir, 'p'), { classes: ['cell'] });
  await project.setScribble(true);
  await importImages(project, ImportRequest.parse({ project: project.root, images: [imageDir], masks: maskDir, maskMode: 'indexed' }));
  const [image] = project.images;
  assert.equal(image!.status, 'partial');
  assert.deepEqual((await readMaskPng(await project.resolve(image!.mask!))).labels, labels);

  const kept = await exportDataset(project, ExportDatasetRequest.parse({ project: project.root, out: path.join(dir, 'keep'), ignore: 'keep' }));
  assert.equal(kept.images, 1);
  assert.deepEqual((await readMaskPng(path.join(dir, 'keep', 'data', 'masks', `${image!.id}_mask.png`))).labels, labels);
  const asBackground = await exportDataset(project, ExportDatasetRequest.parse({ project: project.root, out: path.join(dir, 'background') }));
  assert.equal(asBackground.images, 0);
  assert.equal(asBackground.skipped[0]?.code, 'partly_labelled');
  assert.match(asBackground.skipped[0]!.message, /partly labelled.*--ignore keep/);

  const reopened = await Project.open(project.root);
  assert.equal(reopened.settings.scribble, true);
  assert.equal(reopened.counts().partial, 1);
});
