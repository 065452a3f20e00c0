import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import sharp from 'sharp';
import { ImportRequest } from '../app/contract/schemas.js';
import { importImages } from '../app/dataset/import-images.js';
import { Project } from '../app/project/project.js';
import { contractStudio } from './support/contract-studio.js';
import { tempDir } from './support/temp-dir.js';

const WIDTH = 3000;
const HEIGHT = 2200;

/** A gradient with a different value at every pixel of a row, so a misplaced tile shows. */
function gradient(): Uint8Array {
  const pixels = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const at = (y * WIDTH + x) * 3;
      pixels[at] = x % 256;
      pixels[at + 1] = y % 256;
      pixels[at + 2] = (x + y) % 251;
    }
  }
  return pixels;
}

it('opens a big image as a downscaled level, then full-resolution tiles with its exact pixels', async (t) => {
  const dir = await tempDir(t);
  const images = path.join(dir, 'images');
  await mkdir(images);
  const pixels = gradient();
  await sharp(pixels, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).png().toFile(path.join(images, 'wide.png'));
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  await importImages(project, ImportRequest.parse({ project: project.root, images: [images] }));
  const { client } = contractStudio(t, dir);
  const ask = (extra: { maxSide?: number; region?: { x: number; y: number; width: number; height: number } }) =>
    client.invoke('images.displayRegion', { project: project.root, id: 'wide', ...extra });

  const preview = await ask({ maxSide: 1024 });
  assert.ok(preview.ok);
  assert.deepEqual([preview.value.width, preview.value.height, preview.value.imageWidth, preview.value.imageHeight], [1024, 751, WIDTH, HEIGHT]);
  assert.equal(preview.value.mime, 'image/jpeg');
  const previewInfo = await sharp(Buffer.from(preview.value.base64, 'base64')).metadata();
  assert.deepEqual([previewInfo.width, previewInfo.height], [1024, 751]);

  const region = { x: 2048, y: 1024, width: WIDTH - 2048, height: 1024 };
  const tile = await ask({ region });
  assert.ok(tile.ok);
  assert.equal(tile.value.mime, 'image/png');
  assert.deepEqual(tile.value.region, region);
  const { data, info } = await sharp(Buffer.from(tile.value.base64, 'base64')).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [region.width, region.height, 3]);
  for (const [x, y] of [[0, 0], [region.width - 1, region.height - 1], [317, 555]] as const) {
    const at = (y * region.width + x) * 3;
    const source = ((region.y + y) * WIDTH + region.x + x) * 3;
    assert.deepEqual([...data.subarray(at, at + 3)], [...pixels.subarray(source, source + 3)], `pixel ${x},${y} of the tile`);
  }

  const outside = await ask({ region: { x: 2500, y: 0, width: 1000, height: 10 } });
  assert.ok(!outside.ok);
  assert.match(outside.error.message, /outside wide\.png \(3000x2200\)/);
});
