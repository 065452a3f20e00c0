import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { ContractClient } from '../app/contract/client.js';
import { unwrap } from '../app/contract/envelope.js';
import { readMaskPng, encodeMaskPng } from '../app/masks/mask-png.js';
import { Project } from '../app/project/project.js';
import { contractStudio } from './support/contract-studio.js';
import { tempDir } from './support/temp-dir.js';

async function studio(t: TestContext, home: string): Promise<ContractClient> {
  return contractStudio(t, home).client;
}

async function demo(t: TestContext, count = 4) {
  const dir = await tempDir(t);
  const client = await studio(t, dir);
  const created = unwrap(await client.invoke('demo.create', { folder: path.join(dir, 'demo'), count, size: 64 }));
  return { dir, client, created };
}

describe('fs.browse', () => {
  it('lists folders first, then files with sizes, inside home; parent stops at the root', async (t) => {
    const home = await tempDir(t);
    await fs.mkdir(path.join(home, 'images', 'b-folder'), { recursive: true });
    await fs.writeFile(path.join(home, 'images', 'a.png'), 'xyz');
    await fs.writeFile(path.join(home, 'images', '.hidden'), '');
    const client = await studio(t, home);
    const listing = unwrap(await client.invoke('fs.browse', { path: path.join(home, 'images') }));
    assert.deepEqual(listing.entries, [
      { name: 'b-folder', kind: 'folder', size: null },
      { name: 'a.png', kind: 'file', size: 3 },
    ]);
    assert.equal(listing.parent, await fs.realpath(home));
    const top = unwrap(await client.invoke('fs.browse', {}));
    assert.equal(top.path, await fs.realpath(home));
    assert.equal(top.parent, null);
    assert.equal(unwrap(await client.invoke('fs.browse', { path: path.join(home, 'images'), hidden: true })).entries.length, 3);
  });

  it('refuses paths outside home and the open project, by .. or by symbolic link', async (t) => {
    const base = await tempDir(t);
    const home = path.join(base, 'home');
    const outside = path.join(base, 'secret');
    await fs.mkdir(home);
    await fs.mkdir(outside);
    await fs.symlink(outside, path.join(home, 'link'));
    const client = await studio(t, home);
    for (const attempt of [path.join(home, '..'), path.join(home, 'link'), outside, '/']) {
      const answer = await client.invoke('fs.browse', { path: attempt });
      assert.ok(!answer.ok, `${attempt} must be refused`);
      assert.match(answer.error.message, /outside the folders this page may browse/);
    }
    const missing = await client.invoke('fs.browse', { path: path.join(home, 'nope') });
    assert.ok(!missing.ok);
    assert.equal(missing.error.code, 'not_found');
    // The open project's folder is allowed besides home.
    const projectDir = path.join(outside, 'project');
    await Project.create(projectDir, { classes: ['cell'] });
    unwrap(await client.invoke('project.open', { path: projectDir }));
    const listing = unwrap(await client.invoke('fs.browse', { path: projectDir, project: projectDir }));
    assert.ok(listing.entries.some((entry) => entry.name === 'project.json'));
    assert.ok(listing.roots.some((root) => root.label === 'Project'));
  });
});

describe('demo.create and images.update', () => {
  it('creates the demo project with labelled images and new images to segment', async (t) => {
    const { client, created } = await demo(t);
    assert.equal(created.labelled, 4);
    const summary = unwrap(await client.invoke('project.open', { path: created.project }));
    assert.equal(summary.counts.labelled, 4);
    assert.equal((await fs.readdir(created.newImages)).length, 8);
    const again = await client.invoke('demo.create', { folder: created.folder });
    assert.ok(!again.ok);
    assert.match(again.error.message, /not empty/);
  });

  it('sets split and tags on many images with one save', async (t) => {
    const { client, created } = await demo(t);
    const { items } = unwrap(await client.invoke('images.list', { project: created.project }));
    const ids = items.slice(0, 3).map((image) => image.id);
    unwrap(await client.invoke('images.update', { project: created.project, ids, split: 'test', addTags: ['hard', 'blurry'] }));
    unwrap(await client.invoke('images.update', { project: created.project, ids: ids.slice(0, 1), removeTags: ['blurry'] }));
    const stored = JSON.parse(await fs.readFile(path.join(created.project, 'project.json'), 'utf8')) as { images: Array<{ id: string; split: string; tags: string[] }> };
    const byId = new Map(stored.images.map((image) => [image.id, image]));
    assert.deepEqual(byId.get(ids[0]!), { ...byId.get(ids[0]!), split: 'test', tags: ['hard'] });
    assert.deepEqual(byId.get(ids[1]!)!.tags, ['hard', 'blurry']);
    assert.equal(byId.get(items[3]!.id)!.split, 'auto');
    const unknown = await client.invoke('images.update', { project: created.project, ids: ['nope'], split: 'val' });
    assert.ok(!unknown.ok);
    assert.equal(unknown.error.code, 'not_found');
  });
});

describe('editor channels', () => {
  it('serves the display image as a PNG of the image size', async (t) => {
    const { client, created } = await demo(t, 2);
    const [image] = unwrap(await client.invoke('images.list', { project: created.project })).items;
    const display = unwrap(await client.invoke('images.display', { project: created.project, id: image!.id }));
    const meta = await sharp(Buffer.from(display.base64, 'base64')).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, display.width], ['png', 64, 64, 64]);
  });

  it('masks.get returns the stored labels; masks.patch writes tiles atomically and marks the image labelled', async (t) => {
    const { client, created } = await demo(t, 2);
    const [image] = unwrap(await client.invoke('images.list', { project: created.project })).items;
    const id = image!.id;
    const stored = await readMaskPng(path.join(created.project, image!.mask!));
    const got = unwrap(await client.invoke('masks.get', { project: created.project, id }));
    assert.equal(got.exists, true);
    assert.deepEqual(new Uint8Array(inflateSync(Buffer.from(got.base64, 'base64'))), stored.labels);

    const tile = new Uint8Array(10 * 5).fill(1);
    const patched = unwrap(await client.invoke('masks.patch', {
      project: created.project,
      id,
      tiles: [
        { x: 3, y: 4, width: 10, height: 5, labelsBase64: Buffer.from(tile).toString('base64') },
        { x: 60, y: 60, width: 4, height: 4, encoding: 'deflate', labelsBase64: deflateSync(new Uint8Array(16).fill(255)).toString('base64') },
      ],
    }));
    assert.equal(patched.image.status, 'labelled');
    const after = await readMaskPng(path.join(created.project, image!.mask!));
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        const expected = x >= 3 && x < 13 && y >= 4 && y < 9 ? 1 : x >= 60 && y >= 60 ? 255 : stored.labels[y * 64 + x];
        assert.equal(after.labels[y * 64 + x], expected, `pixel ${x},${y}`);
      }
    }
    // The previous version is kept, and masks.get sees the new one.
    assert.ok(await fs.stat(path.join(created.project, `${image!.mask!}.bak`)));
    const again = unwrap(await client.invoke('masks.get', { project: created.project, id }));
    assert.deepEqual(new Uint8Array(inflateSync(Buffer.from(again.base64, 'base64'))), after.labels);
  });

  it('creates a mask for an unlabelled image and refuses bad patches with a reason', async (t) => {
    const dir = await tempDir(t);
    const client = await studio(t, dir);
    const projectDir = path.join(dir, 'p');
    unwrap(await client.invoke('project.create', { path: projectDir, classes: ['cell'] }));
    const imageDir = path.join(dir, 'imgs');
    await fs.mkdir(imageDir);
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#808080' } }).png().toFile(path.join(imageDir, 'plain.png'));
    const done = new Promise<void>((resolve) => client.on('job.finished', () => resolve()));
    unwrap(await client.invoke('import.start', { project: projectDir, images: [imageDir] }));
    await done;
    const [image] = unwrap(await client.invoke('images.list', { project: projectDir })).items;
    assert.equal(image!.status, 'unlabelled');
    const empty = unwrap(await client.invoke('masks.get', { project: projectDir, id: image!.id }));
    assert.deepEqual([empty.exists, empty.width, empty.height], [false, 40, 30]);
    const noPrediction = unwrap(await client.invoke('predictions.get', { project: projectDir, id: image!.id }));
    assert.equal(noPrediction.exists, false);

    const ones = (n: number, value = 1) => Buffer.from(new Uint8Array(n).fill(value)).toString('base64');
    const outside = await client.invoke('masks.patch', { project: projectDir, id: image!.id, tiles: [{ x: 35, y: 0, width: 10, height: 1, labelsBase64: ones(10) }] });
    assert.ok(!outside.ok);
    assert.match(outside.error.message, /reaches outside plain\.png \(40x30\)/);
    const badClass = await client.invoke('masks.patch', { project: projectDir, id: image!.id, tiles: [{ x: 0, y: 0, width: 2, height: 1, labelsBase64: ones(2, 7) }] });
    assert.ok(!badClass.ok);
    assert.match(badClass.error.message, /contains class 7/);
    const short = await client.invoke('masks.patch', { project: projectDir, id: image!.id, tiles: [{ x: 0, y: 0, width: 2, height: 2, labelsBase64: ones(3) }] });
    assert.ok(!short.ok);
    assert.match(short.error.message, /carries 3 labels instead of 4/);
    const bomb = await client.invoke('masks.patch', { project: projectDir, id: image!.id, tiles: [{ x: 0, y: 0, width: 2, height: 2, encoding: 'deflate', labelsBase64: deflateSync(new Uint8Array(1e6)).toString('base64') }] });
    assert.ok(!bomb.ok);
    await assert.rejects(fs.stat(path.join(projectDir, 'masks', `${image!.id}.png`)), 'a refused patch writes nothing');

    const good = unwrap(await client.invoke('masks.patch', { project: projectDir, id: image!.id, tiles: [{ x: 0, y: 0, width: 40, height: 1, labelsBase64: ones(40) }] }));
    assert.equal(good.image.status, 'labelled');
    const written = await readMaskPng(path.join(projectDir, 'masks', `${image!.id}.png`));
    assert.equal(written.labels.filter((label) => label === 1).length, 40);
    assert.equal(written.labels.filter((label) => label === 0).length, 40 * 29);
  });

  it('predictions.get reads predictions/<id>.png', async (t) => {
    const { client, created } = await demo(t, 2);
    const [image] = unwrap(await client.invoke('images.list', { project: created.project })).items;
    const labels = new Uint8Array(64 * 64).fill(1, 0, 64 * 10);
    await fs.writeFile(path.join(created.project, 'predictions', `${image!.id}.png`), await encodeMaskPng({ width: 64, height: 64, labels }));
    const prediction = unwrap(await client.invoke('predictions.get', { project: created.project, id: image!.id }));
    assert.equal(prediction.exists, true);
    assert.deepEqual(new Uint8Array(inflateSync(Buffer.from(prediction.base64, 'base64'))), labels);
  });
});

describe('training form channels', () => {
  it('lists the presets with descriptions and defaults; a missing validation picture is a clear not_found', async (t) => {
    const { client, created } = await demo(t, 2);
    const presets = unwrap(await client.invoke('train.presets', {}));
    assert.deepEqual(presets.map((preset) => preset.name), ['fast', 'standard', 'paper']);
    assert.equal(presets[0]!.model.base, 8);
    assert.ok(presets.every((preset) => preset.description.length > 10 && preset.settings.epochs > 0));
    const sample = await client.invoke('runs.sample', { project: created.project, runId: 'no-such-run', epoch: 1 });
    assert.ok(!sample.ok);
    assert.equal(sample.error.code, 'not_found');
  });
});
