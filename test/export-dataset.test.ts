import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ImportRequest } from '../app/contract/schemas.js';
import { importImages } from '../app/dataset/import-images.js';
import { readRaster } from '../app/imaging/read-image.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { Project } from '../app/project/project.js';
import { parseJson, runCli } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';

const [W, H] = [12, 8];

/**
 * A project with an 8-bit grey image, an 8-bit RGB image, a 16-bit grey image and both pages of a
 * 16-bit two-page TIFF, each labelled: class 1 on the left, 255 (ignore) in one corner, class 2 only
 * in the RGB image's mask.
 */
async function mixedProject(dir: string): Promise<Project> {
  const images = path.join(dir, 'images');
  await fs.mkdir(images);
  const ramp = (scale: number) => Uint16Array.from({ length: W * H }, (_, p) => 100 + p * scale);
  await sharp(Uint8Array.from({ length: W * H }, (_, p) => p * 2), { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').png().toFile(path.join(images, 'grey.png'));
  await sharp(Uint8Array.from({ length: W * H * 3 }, (_, i) => i % 251), { raw: { width: W, height: H, channels: 3 } }).png().toFile(path.join(images, 'colour.png'));
  await sharp(ramp(300), { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').png().toFile(path.join(images, 'deep.png'));
  const pages = new Uint16Array(2 * W * H);
  pages.set(ramp(200));
  pages.set(ramp(400), W * H);
  await sharp(pages, { raw: { width: W, height: 2 * H, channels: 1, pageHeight: H } }).toColourspace('grey16').tiff({ compression: 'lzw' }).toFile(path.join(images, 'stack.tif'));
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell', 'nucleus', 'spare'] });
  await importImages(project, ImportRequest.parse({ project: project.root, images: [images], tiffPages: 'all' }));
  assert.equal(project.images.length, 5);
  for (const image of project.images) {
    const labels = Uint8Array.from({ length: W * H }, (_, p) => (p === 0 ? 255 : p % W < 4 ? 1 : image.file.endsWith('colour.png') && p % W > 8 ? 2 : 0));
    await project.writeMask(image.id, { width: W, height: H, labels });
  }
  return project;
}

test('export-dataset --channels 3 writes 8-bit RGB copies; ignore pixels become background by default; --ignore keep keeps them; absent classes are named', async (t) => {
  const dir = await tempDir(t);
  const project = await mixedProject(dir);

  const out = path.join(dir, 'rgb');
  const cli = await runCli(['export-dataset', project.root, '--out', out, '--channels', '3', '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const report = parseJson<{ images: number; ignoreToBackground: number; absentClasses: string[] }>(cli);
  assert.deepEqual([report.images, report.ignoreToBackground, report.absentClasses], [5, 5, ['spare']]);
  assert.match(cli.stderr, /5 masks had ignore \(255\) pixels; they were written as background \(0\)\. --ignore keep keeps them/);
  assert.match(cli.stderr, /No exported mask contains spare: the reference train\.py numbers classes by the mask values it finds/);
  for (const image of project.images) {
    const names = (await fs.readdir(path.join(out, 'data', 'imgs'))).filter((name) => name.startsWith(`${image.id}.`));
    assert.equal(names.length, 1, `one file for ${image.id}`);
    const exported = await readRaster(path.join(out, 'data', 'imgs', names[0]!), { maxPixels: 1e6 });
    assert.deepEqual([exported.channels, exported.bitDepth, exported.width, exported.height], [3, 8, W, H], `${names[0]} is 8-bit RGB`);
    const stored = await readRaster(await project.resolve(image.file), { maxPixels: 1e6, page: image.page });
    if (image.file.endsWith('colour.png')) {
      // 8-bit RGB files are copied as they are.
      assert.deepEqual(await fs.readFile(path.join(out, 'data', 'imgs', names[0]!)), await fs.readFile(await project.resolve(image.file)));
    } else if (stored.bitDepth === 8) {
      for (let p = 0; p < W * H; p++) assert.deepEqual([...exported.data.subarray(p * 3, p * 3 + 3)], [stored.data[p], stored.data[p], stored.data[p]]);
    } else {
      // 16-bit: the normalisation rule (a stretch between the 0.1th and 99.9th percentiles) in 8 bits: the ramp spans 0..255.
      assert.equal(exported.data[0], 0);
      assert.equal(exported.data[(W * H - 1) * 3], 255);
    }
    const mask = await readMaskPng(path.join(out, 'data', 'masks', `${image.id}_mask.png`));
    assert.equal(mask.labels[0], 0, 'ignore became background');
    assert.equal(mask.labels[1], 1);
  }

  const kept = path.join(dir, 'kept');
  const keep = await runCli(['export-dataset', project.root, '--out', kept, '--ignore', 'keep', '--json']);
  assert.equal(keep.code, 0, keep.stderr);
  assert.equal(parseJson<{ ignoreToBackground: number }>(keep).ignoreToBackground, 0);
  for (const image of project.images) {
    assert.deepEqual(await fs.readFile(path.join(kept, 'data', 'masks', `${image.id}_mask.png`)), await fs.readFile(await project.resolve(image.mask!)), 'the stored mask, byte for byte');
  }
  // Without --channels, files are as stored: pages of the 16-bit TIFF become 16-bit grey PNGs.
  const page = project.images.find((image) => image.file.endsWith('.tif') && image.page === 1)!;
  const pagePng = await readRaster(path.join(kept, 'data', 'imgs', `${page.id}.png`), { maxPixels: 1e6 });
  const stored = await readRaster(await project.resolve(page.file), { maxPixels: 1e6, page: 1 });
  assert.deepEqual([pagePng.channels, pagePng.bitDepth], [1, 16]);
  assert.deepEqual(pagePng.data, stored.data);

  const bad = await runCli(['export-dataset', project.root, '--out', path.join(dir, 'x'), '--channels', '1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--channels takes 3/);
  const badIgnore = await runCli(['export-dataset', project.root, '--out', path.join(dir, 'x'), '--ignore', 'drop']);
  assert.match(badIgnore.stderr, /--ignore must be one of background, keep/);
});
