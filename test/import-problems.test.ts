import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ImportRequest } from '../app/contract/schemas.js';
import { SegmentRequest } from '../app/contract/segmentation.js';
import { importImages, planImport } from '../app/dataset/import-images.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { segmentBatch } from '../app/inference/batch-segment.js';
import { readRaster } from '../app/imaging/read-image.js';
import { Project } from '../app/project/project.js';
import { runCli } from './support/run-cli.js';
import { CELLS_MODEL } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';

const request = (fields: Record<string, unknown>) => ImportRequest.parse(fields);

async function grey(file: string | Buffer, value: number, size = 24): Promise<void> {
  await fs.writeFile(file, await sharp(Buffer.alloc(size * size, value), { raw: { width: size, height: size, channels: 1 } }).png().toBuffer());
}

/** A baseline, uncompressed little-endian TIFF with one strip per page; pages may differ in size and channels. */
function multiPageTiff(pages: { width: number; height: number; channels: 1 | 3; pixel: (x: number, y: number, c: number) => number }[]): Buffer {
  const chunks: Buffer[] = [];
  let offset = 8;
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  chunks.push(header);
  const ifdOffsets: number[] = [];
  const nextPointers: number[] = [];
  for (const page of pages) {
    const data = Buffer.alloc(page.width * page.height * page.channels);
    for (let y = 0; y < page.height; y++) for (let x = 0; x < page.width; x++) for (let c = 0; c < page.channels; c++) data[(y * page.width + x) * page.channels + c] = page.pixel(x, y, c);
    const dataOffset = offset;
    chunks.push(data);
    offset += data.length + (data.length % 2);
    if (data.length % 2) chunks.push(Buffer.alloc(1));
    const bitsOffset = offset;
    const bits = Buffer.alloc(6);
    for (let c = 0; c < 3; c++) bits.writeUInt16LE(8, c * 2);
    chunks.push(bits);
    offset += bits.length;
    const tags: [number, number, number, number][] = [
      [256, 4, 1, page.width],
      [257, 4, 1, page.height],
      [258, 3, page.channels, page.channels === 1 ? 8 : bitsOffset],
      [259, 3, 1, 1],
      [262, 3, 1, page.channels === 1 ? 1 : 2],
      [273, 4, 1, dataOffset],
      [277, 3, 1, page.channels],
      [278, 4, 1, page.height],
      [279, 4, 1, data.length],
      [284, 3, 1, 1],
    ];
    const ifd = Buffer.alloc(2 + tags.length * 12 + 4);
    ifd.writeUInt16LE(tags.length, 0);
    tags.forEach(([tag, type, count, value], index) => {
      const at = 2 + index * 12;
      ifd.writeUInt16LE(tag, at);
      ifd.writeUInt16LE(type, at + 2);
      ifd.writeUInt32LE(count, at + 4);
      if (type === 3 && count === 1) ifd.writeUInt16LE(value, at + 8);
      else ifd.writeUInt32LE(value, at + 8);
    });
    ifdOffsets.push(offset);
    nextPointers.push(offset + 2 + tags.length * 12);
    chunks.push(ifd);
    offset += ifd.length;
  }
  const file = Buffer.concat(chunks);
  file.writeUInt32LE(ifdOffsets[0]!, 4);
  ifdOffsets.slice(1).forEach((next, index) => file.writeUInt32LE(next, nextPointers[index]!));
  return file;
}

test('two identical files in one import are imported once, and the copy is reported (issue 18.7)', async (t) => {
  const dir = await tempDir(t);
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  await fs.mkdir(path.join(dir, 'in'));
  await grey(path.join(dir, 'in', 'a.png'), 10);
  await fs.copyFile(path.join(dir, 'in', 'a.png'), path.join(dir, 'in', 'b.png'));
  await grey(path.join(dir, 'in', 'c.png'), 200);
  const report = await importImages(project, request({ project: project.root, images: [path.join(dir, 'in')] }));
  assert.equal(report.imported, 2);
  assert.equal(new Set(project.images.map((image) => image.contentHash)).size, 2);
  const duplicates = report.warnings.filter((warning) => warning.code === 'duplicate');
  assert.equal(duplicates.length, 1);
  assert.match(duplicates[0]!.message, /[ab]\.png: same content as .*[ab]\.png in this import; imported once/);

  const again = await importImages(project, request({ project: project.root, images: [path.join(dir, 'in')] }));
  assert.equal(again.imported, 0);
  assert.equal(again.alreadyPresent, 2);
});

test('a mask folder that is the image folder is refused with the reason, not "Imported 0 images" (issue 18.8)', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 2, width: 24, height: 24 });
  await assert.rejects(planImport(request({ project: dir, images: [data.imagesDir], masks: data.imagesDir })), /is also in the mask folder .*so none is left to import as an image/);
  const project = path.join(dir, 'project');
  assert.equal((await runCli(['init', project, '--classes', 'cell'])).code, 0);
  const run = await runCli(['import', project, '--images', data.imagesDir, '--masks', data.imagesDir]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /none is left to import as an image/);
  assert.doesNotMatch(run.stdout, /Imported 0 images/);
});

test('a file whose name is not valid UTF-8 is read, imported and segmented, and its name is reported (issue 18.9)', async (t) => {
  const dir = await tempDir(t);
  const folder = path.join(dir, 'latin1');
  await fs.mkdir(folder);
  // "café.png" written in Latin-1: the é is the single byte 0xE9, which is not UTF-8.
  await grey(Buffer.concat([Buffer.from(`${folder}/caf`), Buffer.from([0xe9]), Buffer.from('.png')]), 120, 64);
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  const report = await importImages(project, request({ project: project.root, images: [folder] }));
  assert.deepEqual(report.skipped, []);
  assert.equal(report.imported, 1);
  assert.equal(project.images[0]!.originalName, 'caf\uFFFD.png');
  assert.match(report.warnings.find((warning) => warning.code === 'file_name')?.message ?? '', /caf.\.png: its name is not valid UTF-8/);
  assert.equal((await readRaster(await project.resolve(project.images[0]!.file), { maxPixels: 1e6 })).data[0], 120);

  const out = path.join(dir, 'out');
  const segmented = await segmentBatch(SegmentRequest.parse({ model: CELLS_MODEL, classes: ['cell'], normalisation: 'unit', inputs: [folder], output: out, tile: 64 }));
  assert.deepEqual(segmented.skipped, []);
  assert.equal(segmented.segmented.length, 1);
  assert.ok((await fs.readdir(out)).some((name) => name.endsWith('_labels.png')));
});

test('a multi-page TIFF with a grey page and an RGB page records and decodes each page as it is (issue 18.10)', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'mixed.tif');
  await fs.writeFile(
    file,
    multiPageTiff([
      { width: 20, height: 10, channels: 1, pixel: (x) => x * 10 },
      { width: 30, height: 15, channels: 3, pixel: (_x, _y, c) => [200, 40, 90][c]! },
    ]),
  );
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  const report = await importImages(project, request({ project: project.root, images: [file], tiffPages: 'all' }));
  assert.equal(report.imported, 2, JSON.stringify(report.skipped));
  const [first, second] = [...project.images].sort((a, b) => a.page - b.page);
  assert.deepEqual([first!.channels, first!.width, first!.height], [1, 20, 10]);
  assert.deepEqual([second!.channels, second!.width, second!.height], [3, 30, 15]);
  const rgb = await readRaster(await project.resolve(second!.file), { maxPixels: 1e6, page: 1 });
  assert.equal(rgb.channels, 3);
  assert.deepEqual([...rgb.data.subarray(0, 3)], [200, 40, 90]);
});
