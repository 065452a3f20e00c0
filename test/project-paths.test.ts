import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ImportRequest } from '../app/contract/schemas.js';
import { exportDataset } from '../app/dataset/export-dataset.js';
import { importImages } from '../app/dataset/import-images.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { Project } from '../app/project/project.js';
import { resolveInProject } from '../app/project/project-layout.js';
import { createAppServices } from '../app/services/app-services.js';
import { runCli } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';

const noSignal = { signal: new AbortController().signal };

/** A labelled 2-image project and, beside it, victim files whose bytes must never change. */
async function setUp(dir: string) {
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 2, width: 32, height: 32 });
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  await importImages(project, ImportRequest.parse({ project: project.root, images: [data.imagesDir], masks: data.masksDir }));
  const victims = path.join(dir, 'victim');
  await fs.mkdir(victims);
  // An image and mask-shaped PNG (so a reader that follows the path would succeed), and plain notes.
  await sharp(Buffer.alloc(32 * 32, 200), { raw: { width: 32, height: 32, channels: 1 } }).png().toFile(path.join(victims, 'notes.png'));
  await fs.copyFile(path.join(victims, 'notes.png'), path.join(victims, 'notes_mask.png'));
  await fs.writeFile(path.join(victims, 'notes'), 'my private notes\n');
  await fs.writeFile(path.join(victims, 'notes.webp'), 'not to be replaced\n');
  const snapshot = async () => Object.fromEntries(await Promise.all((await fs.readdir(victims)).sort().map(async (name) => [name, (await fs.readFile(path.join(victims, name))).toString('base64')])));
  return { project, victims, snapshot, before: await snapshot() };
}

function patchRequest(root: string, id: string) {
  return { project: root, id, tiles: [{ x: 0, y: 0, width: 2, height: 1, encoding: 'raw', labelsBase64: Buffer.from([1, 1]).toString('base64') }] };
}

test('ids and paths in project.json that step outside the project are refused when it opens; outside files stay byte-identical (issue 18.1)', async (t) => {
  const dir = await tempDir(t);
  const { project, snapshot, before } = await setUp(dir);
  const file = path.join(project.root, 'project.json');
  const original = JSON.parse(await fs.readFile(file, 'utf8'));
  const traversal = '../../../victim/notes';
  const crafted = [
    { field: 'id', entry: { id: traversal } },
    { field: 'file', entry: { file: `images/${traversal}.png` } },
    { field: 'mask', entry: { mask: `masks/../${traversal}.png` } },
    { field: 'mask', entry: { mask: '/etc/passwd' } },
    { field: 'prediction', entry: { prediction: { file: `predictions/${traversal}.png`, meanConfidence: 0.5, runId: 'r', at: '2024-01-01' } } },
  ];
  for (const { field, entry } of crafted) {
    await fs.writeFile(file, JSON.stringify({ ...original, images: [{ ...original.images[0], ...entry }, original.images[1]] }));
    await fs.rm(`${file}.bak`, { force: true });
    await assert.rejects(Project.open(project.root), (err: Error) => new RegExp(`images\\.0\\.${field}`).test(err.message), field);

    const services = createAppServices({ browseHome: dir });
    for (const [channel, payload] of [
      ['images.display', { project: project.root, id: traversal }],
      ['images.thumbnail', { project: project.root, id: traversal }],
      ['masks.patch', patchRequest(project.root, traversal)],
    ] as const) {
      const answer = await services.registry.dispatch(channel, payload, noSignal);
      assert.equal(answer.ok, false, `${channel} with a crafted ${field}`);
    }
    await services.close();
    const cli = await runCli(['export-dataset', project.root, '--out', path.join(dir, `out-${field}`)]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, new RegExp(`images\\.0\\.${field}`));
  }
  assert.deepEqual(await snapshot(), before);
});

test('links inside the project that lead outside it are not followed by export, mask writes, thumbnails or display (issue 18.1)', async (t) => {
  const dir = await tempDir(t);
  const { project, victims, snapshot, before } = await setUp(dir);
  const [first, second] = project.images;
  const services = createAppServices({ browseHome: dir });
  t.after(() => services.close());

  // images/<first> becomes a link to a picture outside: display, thumbnails and export must refuse it.
  const imageFile = await project.resolve(first!.file);
  await fs.rm(imageFile);
  await fs.symlink(path.join(victims, 'notes.png'), imageFile);
  await fs.rm(path.join(project.root, '.thumbnails', `${first!.id}.webp`));
  const display = await services.registry.dispatch('images.display', { project: project.root, id: first!.id }, noSignal);
  assert.equal(display.ok, false);
  if (!display.ok) assert.match(display.error.message, /leads outside the project folder/);
  assert.equal((await services.registry.dispatch('images.thumbnail', { project: project.root, id: first!.id }, noSignal)).ok, false);
  const exported = await exportDataset(project, { out: path.join(dir, 'out'), split: 'all', maskSuffix: '_mask', ignore: 'keep' });
  assert.equal(exported.images, 1);
  assert.match(exported.skipped[0]!.message, /leads outside the project folder/);

  // masks/ and .thumbnails/ become links to the victim folder: writes must not land there.
  await fs.rename(path.join(project.root, 'masks'), path.join(project.root, 'masks-moved'));
  await fs.symlink(victims, path.join(project.root, 'masks'));
  const patched = await services.registry.dispatch('masks.patch', patchRequest(project.root, second!.id), noSignal);
  assert.equal(patched.ok, false);
  if (!patched.ok) assert.match(patched.error.message, /leads outside the project folder/);
  await fs.rm(path.join(project.root, '.thumbnails'), { recursive: true });
  await fs.symlink(victims, path.join(project.root, '.thumbnails'));
  assert.equal((await services.registry.dispatch('images.thumbnail', { project: project.root, id: second!.id }, noSignal)).ok, false);

  assert.deepEqual(await snapshot(), before);
});

test('resolveInProject: plain names inside the project only', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'p/images'), { recursive: true });
  const root = path.join(dir, 'p');
  const real = await fs.realpath(root);
  assert.equal(await resolveInProject(root, 'images/a.png'), path.join(real, 'images/a.png'));
  assert.equal(await resolveInProject(root, 'masks/new/a.png'), path.join(real, 'masks/new/a.png'));
  for (const bad of ['../x', 'images/../../x', '/etc/passwd', 'images//a', 'images/.hidden', 'C:/x', 'images\\..\\x', '']) {
    await assert.rejects(resolveInProject(root, bad), /is not a path inside the project/, bad);
  }
});
