import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ImportRequest } from '../app/contract/schemas.js';
import { importImages, planImport } from '../app/dataset/import-images.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { Project } from '../app/project/project.js';
import { tempDir } from './support/temp-dir.js';

const request = (fields: Record<string, unknown>) => ImportRequest.parse(fields);

/** A grey or RGB image from a function of (x, y). */
async function writeImage(file: string, width: number, height: number, channels: 1 | 3, pixel: (x: number, y: number) => number): Promise<void> {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.fill(pixel(x, y), (y * width + x) * channels, (y * width + x + 1) * channels);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(data, { raw: { width, height, channels } }).toFile(file);
}

async function newProject(t: import('node:test').TestContext, classes = ['cell']) {
  const dir = await tempDir(t);
  return { dir, project: await Project.create(path.join(dir, 'project'), { classes }) };
}

test('every supported format imports with its masks, and 16-bit TIFF keeps its depth', async (t) => {
  const { dir, project } = await newProject(t);
  const sets = [
    { format: 'png', bitDepth: 8 },
    { format: 'jpeg', bitDepth: 8, channels: 3 },
    { format: 'tiff', bitDepth: 16 },
    { format: 'webp', bitDepth: 8 },
    { format: 'gif', bitDepth: 8 },
  ] as const;
  for (const [index, set] of sets.entries()) {
    const data = await generateSynthetic({ outDir: path.join(dir, set.format), count: 2, width: 48, height: 40, seed: index + 1, ...set });
    const report = await importImages(project, request({ project: project.root, images: [data.imagesDir], masks: data.masksDir }));
    assert.equal(report.imported, 2, set.format);
    assert.equal(report.labelled, 2, set.format);
    assert.deepEqual(report.skipped, [], set.format);
  }
  const tiff = project.images.find((image) => image.format === 'tiff')!;
  assert.equal(tiff.bitDepth, 16);
  const jpeg = project.images.find((image) => image.format === 'jpeg')!;
  assert.equal(jpeg.channels, 3);
  assert.equal((await Project.open(project.root)).images.length, 10);
  for (const image of project.images) {
    const mask = await readMaskPng(await project.resolve(image.mask!));
    assert.deepEqual([mask.width, mask.height], [48, 40]);
    assert.ok(mask.labels.every((value) => value === 0 || value === 1));
    await fs.access(path.join(project.root, '.thumbnails', `${image.id}.webp`));
  }
});

test('suffix matching: car_01.jpg pairs with car_01_mask.gif (0/255 binary)', async (t) => {
  const { dir, project } = await newProject(t, ['car']);
  await writeImage(path.join(dir, 'imgs/car_01.jpg'), 20, 10, 3, (x) => x * 10);
  await writeImage(path.join(dir, 'imgs/car_02.jpg'), 20, 10, 3, (x) => x * 5);
  await writeImage(path.join(dir, 'masks/car_01_mask.gif'), 20, 10, 1, (x) => (x >= 10 ? 255 : 0));
  await writeImage(path.join(dir, 'masks/car_02_mask.gif'), 20, 10, 1, (_x, y) => (y >= 5 ? 255 : 0));
  const plan = await planImport(request({ project: project.root, images: [path.join(dir, 'imgs')], masks: path.join(dir, 'masks') }));
  assert.deepEqual(plan.pairs.map((pair) => [path.basename(pair.image), path.basename(pair.mask ?? ''), pair.rule]), [
    ['car_01.jpg', 'car_01_mask.gif', 'affix'],
    ['car_02.jpg', 'car_02_mask.gif', 'affix'],
  ]);
  const report = await importImages(project, request({ project: project.root, images: [path.join(dir, 'imgs')], masks: path.join(dir, 'masks') }));
  assert.equal(report.labelled, 2);
  const mask = await readMaskPng(await project.resolve(project.image('car_01').mask!));
  assert.equal(mask.labels[0], 0);
  assert.equal(mask.labels[15], 1);
});

test('number matching: t013.tif pairs with man_seg013.tif, by pattern and automatically', async (t) => {
  const { dir, project } = await newProject(t);
  for (const n of ['000', '013', '101']) {
    await writeImage(path.join(dir, `imgs/t${n}.tif`), 16, 16, 1, (x) => x * 16 + Number(n));
    await writeImage(path.join(dir, `masks/man_seg${n}.tif`), 16, 16, 1, (x) => (x > 8 ? 1 : 0));
  }
  const explicit = await planImport(request({ project: project.root, images: [path.join(dir, 'imgs')], masks: path.join(dir, 'masks'), match: { imagePattern: 't{n}', maskPattern: 'man_seg{n}' } }));
  assert.deepEqual(explicit.pairs.map((pair) => [path.basename(pair.image), path.basename(pair.mask ?? ''), pair.rule]), [
    ['t000.tif', 'man_seg000.tif', 'pattern'],
    ['t013.tif', 'man_seg013.tif', 'pattern'],
    ['t101.tif', 'man_seg101.tif', 'pattern'],
  ]);
  const automatic = await planImport(request({ project: project.root, images: [path.join(dir, 'imgs')], masks: path.join(dir, 'masks') }));
  assert.deepEqual(automatic.pairs.map((pair) => pair.rule), ['number', 'number', 'number']);
  const report = await importImages(project, request({ project: project.root, images: [path.join(dir, 'imgs')], masks: path.join(dir, 'masks') }));
  assert.equal(report.labelled, 3);
});

test('a DRIVE-like triple: RGB TIFF image, GIF mask and GIF field-of-view that becomes ignore', async (t) => {
  const { dir, project } = await newProject(t, ['vessel']);
  const [w, h] = [30, 20];
  const insideFov = (x: number, y: number) => (x - 15) ** 2 + (y - 10) ** 2 < 81;
  await writeImage(path.join(dir, 'training/images/21_training.tif'), w, h, 3, (x, y) => (insideFov(x, y) ? 120 + x : 0));
  await writeImage(path.join(dir, 'training/1st_manual/21_manual1.gif'), w, h, 1, (x) => (x === 15 ? 255 : 0));
  await writeImage(path.join(dir, 'training/mask/21_training_mask.gif'), w, h, 1, (x, y) => (insideFov(x, y) ? 255 : 0));
  const fields = {
    project: project.root,
    images: [path.join(dir, 'training/images')],
    masks: path.join(dir, 'training/1st_manual'),
    roi: path.join(dir, 'training/mask'),
    match: { maskPattern: '{n}_manual1', roiPattern: '{stem}_mask' },
  };
  const plan = await planImport(request(fields));
  assert.deepEqual(plan.pairs.map((pair) => [path.basename(pair.mask ?? ''), path.basename(pair.roi ?? '')]), [['21_manual1.gif', '21_training_mask.gif']]);
  const report = await importImages(project, request(fields));
  assert.equal(report.labelled, 1);
  const image = project.image('21_training');
  assert.deepEqual([image.channels, image.format], [3, 'tiff']);
  const { labels } = await readMaskPng(await project.resolve(image.mask!));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const expected = !insideFov(x, y) ? 255 : x === 15 ? 1 : 0;
      assert.equal(labels[y * w + x], expected, `pixel ${x},${y}`);
    }
  }
  // The same triple found without being told the patterns (numbers and the common _mask suffix).
  const automatic = await planImport(request({ ...fields, match: {} }));
  assert.deepEqual(automatic.pairs.map((pair) => [pair.rule, path.basename(pair.roi ?? '')]), [['number', '21_training_mask.gif']]);
});

test('colour-coded masks map through the class colours; 3-class indexed masks keep 255 as ignore', async (t) => {
  const { dir, project } = await newProject(t, ['cytoplasm', 'nucleus']);
  const [, cytoplasm, nucleus] = project.classes;
  const hex = (colour: string, channel: number) => Number.parseInt(colour.slice(1 + channel * 2, 3 + channel * 2), 16);
  const colourMask = new Uint8Array(4 * 2 * 3);
  [0, 0, 0, ...[0, 1, 2].map((c) => hex(cytoplasm!.color, c)), ...[0, 1, 2].map((c) => hex(nucleus!.color, c))].forEach((v, i) => (colourMask[i] = v));
  await fs.mkdir(path.join(dir, 'colour/masks'), { recursive: true });
  await writeImage(path.join(dir, 'colour/imgs/a.png'), 4, 2, 1, () => 100);
  await sharp(colourMask, { raw: { width: 4, height: 2, channels: 3 } }).png().toFile(path.join(dir, 'colour/masks/a.png'));
  await writeImage(path.join(dir, 'indexed/imgs/b.png'), 4, 2, 1, () => 50);
  await writeImage(path.join(dir, 'indexed/masks/b.png'), 4, 2, 1, (x, y) => [0, 1, 2, 255][x]! * (y === 0 ? 1 : 0));
  for (const set of ['colour', 'indexed']) {
    const report = await importImages(project, request({ project: project.root, images: [path.join(dir, set, 'imgs')], masks: path.join(dir, set, 'masks') }));
    assert.deepEqual(report.skipped, [], set);
  }
  assert.deepEqual([...(await readMaskPng(await project.resolve('masks/a.png'))).labels].slice(0, 3), [0, 1, 2]);
  assert.deepEqual([...(await readMaskPng(await project.resolve('masks/b.png'))).labels].slice(0, 4), [0, 1, 2, 255]);
});

test('broken images are skipped and reported with file and problem, images with unusable masks import unlabelled, project.json stays valid', async (t) => {
  const { dir, project } = await newProject(t);
  const images = path.join(dir, 'imgs');
  const masks = path.join(dir, 'masks');
  for (const [index, name] of ['good1', 'good2', 'wrongsize', 'badvalues'].entries()) {
    await writeImage(path.join(images, `${name}.png`), 32, 24, 1, (x) => x * 8 + index);
  }
  await writeImage(path.join(masks, 'good1.png'), 32, 24, 1, (x) => (x > 16 ? 255 : 0));
  await writeImage(path.join(masks, 'wrongsize.png'), 30, 24, 1, () => 0);
  await writeImage(path.join(masks, 'badvalues.png'), 32, 24, 1, (x) => [0, 1, 7, 9][x % 4]!);
  const png = await fs.readFile(path.join(images, 'good1.png'));
  await fs.writeFile(path.join(images, 'truncated.png'), png.subarray(0, Math.floor(png.length / 2)));
  await fs.writeFile(path.join(images, 'empty.png'), '');
  await fs.writeFile(path.join(images, 'notes.png'), 'these are my notes, not an image\n');
  await fs.writeFile(path.join(images, 'readme.txt'), 'hello');

  const report = await importImages(project, request({ project: project.root, images: [images], masks }));
  assert.deepEqual([report.imported, report.labelled, report.unlabelled], [4, 1, 3]);
  const reasons = Object.fromEntries(report.skipped.map((problem) => [path.basename(problem.file), problem.message]));
  assert.deepEqual(Object.keys(reasons).sort(), ['empty.png', 'notes.png', 'readme.txt', 'truncated.png']);
  assert.match(reasons['truncated.png']!, /truncated\.png.*(truncated|corrupt)/i);
  assert.match(reasons['empty.png']!, /empty\.png.*empty/i);
  assert.match(reasons['notes.png']!, /notes\.png.*not an image/i);
  assert.match(reasons['readme.txt']!, /not an image file/);
  const unlabelled = Object.fromEntries(report.warnings.filter((warning) => warning.code === 'mask_not_used').map((warning) => [path.basename(warning.file), warning.message]));
  assert.match(unlabelled['wrongsize.png']!, /imgs\/wrongsize\.png: imported unlabelled because its mask cannot be used: .*masks\/wrongsize\.png.*30x24.*32x24/);
  assert.match(unlabelled['badvalues.png']!, /masks\/badvalues\.png: values 7 \(192 pixels\), 9 \(192 pixels\) are not classes/);
  const reopened = await Project.open(project.root);
  assert.deepEqual(reopened.images.map((image) => [image.id, image.mask]).sort(), [['badvalues', null], ['good1', 'masks/good1.png'], ['good2', null], ['wrongsize', null]]);
  assert.equal(reopened.recovery, null);
  // Nothing of a skipped file, and no unusable mask, was copied into the project.
  assert.deepEqual((await fs.readdir(path.join(project.root, 'images'))).sort(), ['badvalues.png', 'good1.png', 'good2.png', 'wrongsize.png']);
  assert.deepEqual(await fs.readdir(path.join(project.root, 'masks')), ['good1.png']);
});

test('importing the same files again changes nothing', async (t) => {
  const { dir, project } = await newProject(t);
  await writeImage(path.join(dir, 'imgs/a.png'), 8, 8, 1, (x) => x * 30);
  await writeImage(path.join(dir, 'imgs/b.png'), 8, 8, 1, (x) => x * 20);
  await writeImage(path.join(dir, 'masks/b.png'), 8, 8, 1, (x) => (x > 3 ? 1 : 0));
  const fields = { project: project.root, images: [path.join(dir, 'imgs')], masks: path.join(dir, 'masks') };
  const first = await importImages(project, request(fields));
  assert.deepEqual([first.imported, first.labelled, first.skipped.length], [2, 1, 0]);
  const second = await importImages(project, request(fields));
  assert.deepEqual([second.imported, second.alreadyPresent], [0, 2]);
  const said = Object.fromEntries(second.warnings.map((warning) => [path.basename(warning.file), warning.message]));
  assert.match(said['a.png']!, /a\.png: same content as image "a" already in the project; not imported again/);
  assert.match(said['b.png']!, /b\.png: same content as image "b" already in the project, which has a mask of its own: it keeps that mask, and .*masks\/b\.png is not used/);
  assert.deepEqual(project.images.map((image) => image.id), ['a', 'b']);
});

test('multi-page TIFF: first page by default (with a warning), every page on request', async (t) => {
  const { dir, project } = await newProject(t);
  const [width, height] = [6, 4];
  const pages = new Uint8Array(width * height * 3);
  pages.fill(10, 0, width * height);
  pages.fill(200, width * height, 2 * width * height);
  pages.fill(77, 2 * width * height);
  await fs.mkdir(path.join(dir, 'stack'), { recursive: true });
  await sharp(pages, { raw: { width, height: height * 3, channels: 1, pageHeight: height } }).tiff().toFile(path.join(dir, 'stack/s.tif'));
  const first = await importImages(project, request({ project: project.root, images: [path.join(dir, 'stack')] }));
  assert.equal(first.imported, 1);
  assert.match(first.warnings[0]!.message, /s\.tif: has 3 pages; imported page 1 only \(use --tiff-pages all/);
  const all = await importImages(project, request({ project: project.root, images: [path.join(dir, 'stack')], tiffPages: 'all' }));
  assert.equal(all.imported, 2, 'pages 2 and 3 are new; page 1 is already present');
  assert.deepEqual(project.images.map((image) => image.page).sort(), [0, 1, 2]);
});

test('cancelling an import stops it and keeps what finished', async (t) => {
  const { dir, project } = await newProject(t);
  const data = await generateSynthetic({ outDir: dir, count: 40, width: 64, height: 64 });
  const controller = new AbortController();
  let progressed = 0;
  const result = importImages(project, request({ project: project.root, images: [data.imagesDir], masks: data.masksDir }), {
    signal: controller.signal,
    onProgress: (done) => {
      progressed = done;
      if (done === 5) controller.abort();
    },
  });
  await assert.rejects(result, /Cancelled/);
  const reopened = await Project.open(project.root);
  assert.ok(reopened.images.length >= 5 && reopened.images.length < 40, `kept ${reopened.images.length}`);
  assert.ok(progressed < 40);
});
