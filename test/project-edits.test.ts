// The project edits behind the editor's tools, on real mask files: removing a class (masks rewritten,
// safe against a crash), deleting images into the trash and restoring them, mask thumbnails.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inflate } from 'node:zlib';
import type { ImageEntry } from '../app/contract/schemas.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { removalLookup, removeClass } from '../app/project/class-removal.js';
import { Project } from '../app/project/project.js';
import { releaseProjectWrites } from '../app/project/project-lock.js';
import { contractStudio } from './support/contract-studio.js';
import { tempDir } from './support/temp-dir.js';
import { tinyProject } from './support/tiny-project.js';

function entry(id: string, width: number, height: number): ImageEntry {
  return {
    id, file: `images/${id}.png`, page: 0, originalName: `${id}.png`, contentHash: id, format: 'png',
    width, height, channels: 1, bitDepth: 8, status: 'unlabelled', split: 'auto', tags: [], mask: null,
    addedAt: new Date(0).toISOString(),
  };
}

/** Every label 0-3 and 255 in bands, different per image, so a mask rewritten twice or not at all shows. */
function bands(width: number, height: number, shift: number): Uint8Array {
  const values = [0, 1, 2, 3, 255];
  return Uint8Array.from({ length: width * height }, (_, index) => values[(Math.floor(index / width / 4) + shift) % values.length]!);
}

/** A project with classes background, a, b, c and `count` masks of the given size. */
async function fourClassProject(root: string, count: number, size: number): Promise<{ project: Project; masks: Map<string, Uint8Array> }> {
  const project = await Project.create(root, { classes: ['a', 'b', 'c'] });
  const ids = Array.from({ length: count }, (_, index) => `m${index}`);
  await project.addImages(ids.map((id) => entry(id, size, size)));
  const masks = new Map<string, Uint8Array>();
  for (const [index, id] of ids.entries()) {
    const labels = bands(size, size, index);
    masks.set(id, labels.slice());
    await project.writeMask(id, { width: size, height: size, labels });
  }
  return { project, masks };
}

const remap = (labels: Uint8Array, lookup: Uint8Array) => labels.map((label) => lookup[label]!);

describe('removing a class', () => {
  it('rewrites every mask and prediction as asked and renumbers the later classes', async (t) => {
    const root = path.join(await tempDir(t), 'p');
    const { project, masks } = await fourClassProject(root, 3, 16);
    // A stored prediction is rewritten too; there the removed class becomes background, never unlabelled.
    const prediction = bands(16, 16, 1).map((label) => (label === 255 ? 0 : label));
    const sharp = (await import('sharp')).default;
    await sharp(prediction, { raw: { width: 16, height: 16, channels: 1 } }).toColourspace('b-w').png().toFile(path.join(root, 'predictions', 'm0.png'));

    const rewritten = await removeClass(project, 1, { to: 'unlabelled' });
    assert.equal(rewritten, 4, 'three masks and one prediction hold class 1 or a later one');
    assert.deepEqual(project.classes.map((entry) => [entry.id, entry.name]), [[0, 'background'], [1, 'b'], [2, 'c']]);
    const reopened = await Project.open(root);
    assert.deepEqual(reopened.classes.map((entry) => entry.name), ['background', 'b', 'c']);
    for (const [id, before] of masks) {
      const after = (await readMaskPng(path.join(root, 'masks', `${id}.png`))).labels;
      for (let index = 0; index < before.length; index++) {
        const expected = { 0: 0, 1: 255, 2: 1, 3: 2, 255: 255 }[before[index]!];
        assert.equal(after[index], expected, `${id} pixel ${index}: ${before[index]} became ${after[index]}`);
      }
    }
    const predicted = (await readMaskPng(path.join(root, 'predictions', 'm0.png'))).labels;
    assert.deepEqual([...new Set(predicted)].sort(), [0, 1, 2], 'prediction: class 1 -> background, 2 -> 1, 3 -> 2');
    assert.deepEqual((await fs.readdir(path.join(root, 'masks'))).filter((name) => name.includes('class-change') || name.startsWith('.')), []);
    assert.equal(await fs.stat(path.join(root, '.class-change.json')).catch(() => null), null, 'the journal is gone');
  });

  it('merges into another class or background, and refuses what cannot be done', async (t) => {
    const root = path.join(await tempDir(t), 'p');
    const { project, masks } = await fourClassProject(root, 1, 20);
    const before = masks.get('m0')!;
    await removeClass(project, 2, { to: 'class', classId: 3 });
    assert.deepEqual((await readMaskPng(path.join(root, 'masks', 'm0.png'))).labels, remap(before, Uint8Array.from({ length: 256 }, (_, l) => ({ 2: 2, 3: 2 })[l] ?? l)));
    await removeClass(project, 1, { to: 'background' });
    assert.deepEqual(project.classes.map((entry) => entry.name), ['background', 'c']);
    assert.deepEqual([...new Set((await readMaskPng(path.join(root, 'masks', 'm0.png'))).labels)].sort((a, b) => a - b), [0, 1, 255]);
    await assert.rejects(removeClass(project, 1, { to: 'unlabelled' }), /"c" is the project's only class besides background/);
    await project.setClasses([...project.classes, { id: 2, name: 'd', color: '#123456' }]);
    await assert.rejects(removeClass(project, 2, { to: 'class', classId: 2 }), /cannot be merged into class 2/);
    await assert.rejects(removeClass(project, 0, { to: 'unlabelled' }), /background, class 0, always stays/);
    // Renaming, recolouring and adding go through setClasses; removing there would leave masks meaning something else.
    await assert.rejects(project.setClasses(project.classes.slice(0, 2)), /remove "d" with its own command/);
    await assert.rejects(project.setClasses([...project.classes.slice(0, 2), { id: 2, name: 'C', color: '#000000' }]), /Class "C" is listed twice/);
  });

  it('adds, renames and recolours classes through the contract; a removal there asks what the pixels become', async (t) => {
    const dir = await tempDir(t);
    const root = path.join(dir, 'p');
    const { masks } = await fourClassProject(root, 1, 20);
    const { client } = contractStudio(t, dir);
    const added = await client.invoke('project.addClass', { project: root, name: 'd' });
    assert.ok(added.ok, JSON.stringify(added));
    assert.deepEqual(added.value.classes.at(-1), { id: 4, name: 'd', color: '#f0e442' }, 'the palette\'s next colour');
    const renamed = await client.invoke('project.setClasses', { project: root, classes: added.value.classes.map((entry) => (entry.id === 2 ? { ...entry, name: 'nucleus', color: '#ff00aa' } : entry)) });
    assert.ok(renamed.ok, JSON.stringify(renamed));
    assert.deepEqual((await Project.open(root)).classes[2], { id: 2, name: 'nucleus', color: '#ff00aa' });
    const duplicate = await client.invoke('project.addClass', { project: root, name: 'Nucleus' });
    assert.ok(!duplicate.ok && /listed twice/.test(duplicate.error.message), JSON.stringify(duplicate));
    const removed = await client.invoke('project.removeClass', { project: root, classId: 2, pixels: { to: 'class', classId: 1 } });
    assert.ok(removed.ok, JSON.stringify(removed));
    assert.equal(removed.value.rewritten, 1);
    assert.deepEqual(removed.value.summary.classes.map((entry) => entry.name), ['background', 'a', 'c', 'd']);
    const stored = (await readMaskPng(path.join(root, 'masks', 'm0.png'))).labels;
    assert.deepEqual(stored, remap(masks.get('m0')!, removalLookup(5, 2, { to: 'class', classId: 1 })));
  });

  it('maps labels as the lookup says: later classes move down one, 255 stays', () => {
    const lookup = removalLookup(4, 2, { to: 'unlabelled' });
    assert.deepEqual([0, 1, 2, 3, 4, 255].map((label) => lookup[label]), [0, 1, 255, 2, 4, 255]);
    assert.equal(removalLookup(4, 2, { to: 'unlabelled' }, true)[2], 0);
    assert.equal(removalLookup(4, 1, { to: 'class', classId: 3 })[1], 2);
  });

  it('a crash at any moment leaves masks and class list agreeing: all old, or all rewritten', async (t) => {
    const dir = await tempDir(t);
    const child = fileURLToPath(new URL('./support/remove-class.js', import.meta.url));
    const lookup = removalLookup(4, 1, { to: 'unlabelled' });
    const outcomes = new Set<string>();
    // Kills spread over one whole uninterrupted run's length, measured first on this machine.
    const timed = path.join(dir, 'timed');
    await fourClassProject(timed, 24, 128);
    await releaseProjectWrites(timed);
    const started = Date.now();
    const full = spawn(process.execPath, [child, timed], { stdio: ['ignore', 'ignore', 'inherit'] });
    await new Promise((resolve) => full.once('exit', resolve));
    const runMs = Date.now() - started;
    for (const delayMs of [0, 0.5, 0.85, 0.95, 1].map((share) => Math.round(share * runMs))) {
      const root = path.join(dir, `p${delayMs}`);
      const { masks } = await fourClassProject(root, 24, 128);
      await releaseProjectWrites(root);
      const worker = spawn(process.execPath, [child, root], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      let output = '';
      await new Promise<void>((resolve) =>
        worker.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('ready')) resolve();
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      worker.kill('SIGKILL');
      await exited;

      // The next writer settles what the killed one left.
      const project = await Project.open(root);
      await project.claimWrites();
      const removed = project.classes.length === 3;
      outcomes.add(output.includes('done') ? 'finished' : removed ? 'committed' : 'not committed');
      for (const [id, before] of masks) {
        const after = (await readMaskPng(path.join(root, 'masks', `${id}.png`))).labels;
        assert.deepEqual(after, removed ? remap(before, lookup) : before, `after ${delayMs} ms: ${id} does not match the ${project.classes.length} classes`);
      }
      const left = [...(await fs.readdir(root)), ...(await fs.readdir(path.join(root, 'masks')))].filter((name) => name.includes('class-change'));
      assert.deepEqual(left, [], `after ${delayMs} ms nothing of the change is left over`);
      await releaseProjectWrites(root);
    }
    t.diagnostic(`one run ${runMs} ms; outcomes: ${[...outcomes].join(', ')}`);
  });

  it('the next writer finishes a removal that was committed and drops one that was not', async (t) => {
    const dir = await tempDir(t);
    for (const committed of [true, false]) {
      const root = path.join(dir, String(committed));
      const { project, masks } = await fourClassProject(root, 2, 20);
      const next = project.classes.filter((entry) => entry.id !== 1).map((entry, id) => ({ ...entry, id }));
      const lookup = removalLookup(4, 1, { to: 'background' });
      // The state a crash leaves between the commit point and the renames (or just before the commit).
      const sharp = (await import('sharp')).default;
      for (const [id, before] of masks) {
        await sharp(remap(before, lookup), { raw: { width: 20, height: 20, channels: 1 } }).toColourspace('b-w').png().toFile(path.join(root, 'masks', `${id}.png.class-change`));
      }
      await fs.writeFile(path.join(root, '.class-change.json'), JSON.stringify({ classes: next, files: [...masks.keys()].map((id) => `masks/${id}.png`) }));
      if (committed) await project.commitClassRemoval(next);
      await releaseProjectWrites(root);
      // Opening alone settles it: masks must agree with the class list before anything reads them.
      const reopened = await Project.open(root);
      assert.equal(reopened.classes.length, committed ? 3 : 4);
      for (const [id, before] of masks) {
        assert.deepEqual((await readMaskPng(path.join(root, 'masks', `${id}.png`))).labels, committed ? remap(before, lookup) : before, `${id} (${committed ? 'committed' : 'not committed'})`);
      }
      assert.deepEqual((await fs.readdir(path.join(root, 'masks'))).filter((name) => name.includes('class-change')), []);
      assert.equal(await fs.stat(path.join(root, '.class-change.json')).catch(() => null), null);
      await releaseProjectWrites(root);
    }
  });
});

describe('the trash', () => {
  it('deletes images with their masks into the trash, restores them whole, and empties when the host closes', async (t) => {
    const dir = await tempDir(t);
    const project = await tinyProject(dir, { count: 4 });
    const { client, services } = contractStudio(t, dir);
    const [a, b] = project.images;
    const maskBefore = await fs.readFile(path.join(project.root, a!.mask!));
    const imageBefore = await fs.readFile(path.join(project.root, a!.file));
    await client.invoke('images.thumbnail', { project: project.root, id: a!.id });

    const deleted = await client.invoke('images.delete', { project: project.root, ids: [a!.id, b!.id] });
    assert.ok(deleted.ok, JSON.stringify(deleted));
    assert.deepEqual(deleted.value.trashed.map((item) => [item.id, item.hadMask]), [[a!.id, true], [b!.id, true]]);
    const listed = await client.invoke('images.list', { project: project.root });
    assert.ok(listed.ok);
    assert.deepEqual(listed.value.items.map((image) => image.id), project.images.slice(2).map((image) => image.id));
    assert.equal(await fs.stat(path.join(project.root, a!.file)).catch(() => null), null, 'the image left images/');
    assert.equal(await fs.stat(path.join(project.root, a!.mask!)).catch(() => null), null, 'the mask left masks/');
    assert.equal(await fs.stat(path.join(project.root, '.thumbnails', `${a!.id}.webp`)).catch(() => null), null, 'its thumbnail is gone');
    const trash = await client.invoke('trash.list', { project: project.root });
    assert.ok(trash.ok);
    assert.deepEqual(trash.value.map((item) => item.id).sort(), [a!.id, b!.id].sort());

    const restored = await client.invoke('images.restore', { project: project.root, keys: [deleted.value.trashed[0]!.key] });
    assert.ok(restored.ok, JSON.stringify(restored));
    assert.deepEqual(restored.value.restored.map((image) => image.id), [a!.id]);
    assert.deepEqual(await fs.readFile(path.join(project.root, a!.mask!)), maskBefore);
    assert.deepEqual(await fs.readFile(path.join(project.root, a!.file)), imageBefore);
    const reopened = await Project.open(project.root);
    assert.deepEqual(reopened.image(a!.id), a);
    assert.equal(reopened.hasImage(b!.id), false);
    const again = await client.invoke('images.restore', { project: project.root, keys: [deleted.value.trashed[0]!.key] });
    assert.ok(!again.ok && /holds no deleted image/.test(again.error.message), JSON.stringify(again));

    await services.close();
    assert.equal(await fs.stat(path.join(project.root, '.trash')).catch(() => null), null, 'closing empties the trash');
    assert.equal((await Project.open(project.root)).hasImage(b!.id), false);
  });

  it('an interrupted delete or restore is settled by the next writer without losing a file', async (t) => {
    const dir = await tempDir(t);
    const project = await tinyProject(dir, { count: 3 });
    const { trashImages } = await import('../app/project/trash.js');
    const [a, b] = project.images;
    const maskBefore = await fs.readFile(path.join(project.root, a!.mask!));
    await trashImages(project, [a!.id, b!.id]);
    // As if a restore of `a` was killed after project.json took its entry back but before its files moved.
    await project.addImages([a!]);
    await releaseProjectWrites(project.root);
    const next = await Project.open(project.root);
    await next.claimWrites();
    assert.deepEqual(await fs.readFile(path.join(project.root, a!.mask!)), maskBefore, 'the mask is back in place');
    assert.ok((await fs.stat(path.join(project.root, a!.file))).isFile(), 'and the image (not taken for an orphan copy)');
    assert.deepEqual(await fs.readdir(path.join(project.root, '.trash')), [], '`b`, deleted in a session now over, is emptied; `a` settled');
    assert.equal(next.hasImage(b!.id), false);
    await releaseProjectWrites(project.root);
  });
});

describe('mask thumbnails', () => {
  it('shrink the mask with nearest sampling, are cached, and follow a saved edit', async (t) => {
    const dir = await tempDir(t);
    const root = path.join(dir, 'p');
    const project = await Project.create(root, { classes: ['a', 'b', 'c'] });
    await project.addImages([entry('wide', 600, 300), entry('bare', 10, 10)]);
    await project.writeMask('wide', { width: 600, height: 300, labels: bands(600, 300, 0) });
    const { client } = contractStudio(t, dir);
    const first = await client.invoke('masks.thumbnail', { project: root, id: 'wide' });
    assert.ok(first.ok, JSON.stringify(first));
    assert.deepEqual([first.value.width, first.value.height, first.value.exists], [256, 128, true]);
    const labels = new Uint8Array(await promisify(inflate)(Buffer.from(first.value.base64, 'base64')));
    assert.equal(labels.length, 256 * 128);
    assert.deepEqual([...new Set(labels)].sort((x, y) => x - y), [0, 1, 2, 3, 255], 'only class ids, no blends');
    const cache = path.join(root, '.thumbnails', 'wide.mask.png');
    const cachedAt = (await fs.stat(cache)).mtimeMs;
    const second = await client.invoke('masks.thumbnail', { project: root, id: 'wide' });
    assert.ok(second.ok);
    assert.equal(second.value.base64, first.value.base64);
    assert.equal((await fs.stat(cache)).mtimeMs, cachedAt, 'served from the cache');

    await new Promise((resolve) => setTimeout(resolve, 20));
    const tile = Buffer.alloc(600 * 300, 2).toString('base64');
    const patched = await client.invoke('masks.patch', { project: root, id: 'wide', tiles: [{ x: 0, y: 0, width: 600, height: 300, labelsBase64: tile }] });
    assert.ok(patched.ok, JSON.stringify(patched));
    const third = await client.invoke('masks.thumbnail', { project: root, id: 'wide' });
    assert.ok(third.ok);
    assert.deepEqual([...new Set(await promisify(inflate)(Buffer.from(third.value.base64, 'base64')))], [2], 'made again from the edited mask');

    const bare = await client.invoke('masks.thumbnail', { project: root, id: 'bare' });
    assert.ok(bare.ok);
    assert.equal(bare.value.exists, false);
  });
});
