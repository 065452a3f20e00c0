import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../app/contract/errors.js';
import { generateSynthetic, renderSyntheticSample, type SyntheticOptions } from '../app/dataset/synthetic.js';
import { DEFAULT_MAX_PIXELS } from '../app/imaging/pixel-limit.js';
import { probeImage, readRaster } from '../app/imaging/read-image.js';
import { readMaskPng } from '../app/masks/mask-png.js';

const limit = { maxPixels: DEFAULT_MAX_PIXELS };
let dir: string;
let runs = 0;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'synthetic-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function generate(options: Omit<SyntheticOptions, 'outDir'>) {
  return generateSynthetic({ outDir: path.join(dir, `run-${runs++}`), ...options });
}

async function bytesOf(files: string[]): Promise<Buffer[]> {
  return Promise.all(files.map((file) => readFile(file)));
}

describe('generateSynthetic', () => {
  test('writes images/cell_NNN.ext and masks/cell_NNN<suffix>.png', async () => {
    const result = await generate({ count: 2, format: 'tiff', maskSuffix: '_mask' });
    assert.deepEqual(result.images.map((f) => path.relative(path.dirname(result.imagesDir), f)), ['images/cell_000.tif', 'images/cell_001.tif']);
    assert.deepEqual(result.masks.map((f) => path.relative(path.dirname(result.masksDir), f)), [
      'masks/cell_000_mask.png',
      'masks/cell_001_mask.png',
    ]);
  });

  test('the same seed gives byte-identical files; another seed does not', async () => {
    for (const format of ['png', 'tiff', 'jpeg', 'webp', 'gif'] as const) {
      const first = await generate({ count: 2, seed: 42, format, classes: 3 });
      const again = await generate({ count: 2, seed: 42, format, classes: 3 });
      const other = await generate({ count: 2, seed: 43, format, classes: 3 });
      assert.deepEqual(await bytesOf(again.images), await bytesOf(first.images), `${format} images`);
      assert.deepEqual(await bytesOf(again.masks), await bytesOf(first.masks), `${format} masks`);
      assert.notDeepEqual(await bytesOf(other.images), await bytesOf(first.images), `${format} images, other seed`);
      assert.notDeepEqual(await bytesOf(other.masks), await bytesOf(first.masks), `${format} masks, other seed`);
    }
  });

  test('images within one run differ from each other', async () => {
    const result = await generate({ count: 2 });
    const [a, b] = await bytesOf(result.images);
    assert.notDeepEqual(a, b);
  });

  const variants: Array<Pick<SyntheticOptions, 'format' | 'bitDepth' | 'channels'>> = [
    { format: 'png', bitDepth: 8, channels: 1 },
    { format: 'png', bitDepth: 8, channels: 3 },
    { format: 'png', bitDepth: 16, channels: 1 },
    { format: 'png', bitDepth: 16, channels: 3 },
    { format: 'tiff', bitDepth: 8, channels: 1 },
    { format: 'tiff', bitDepth: 16, channels: 1 },
    { format: 'jpeg', bitDepth: 8, channels: 1 },
    { format: 'jpeg', bitDepth: 8, channels: 3 },
    { format: 'webp', bitDepth: 8, channels: 3 },
    { format: 'gif', bitDepth: 8, channels: 1 },
  ];
  for (const variant of variants) {
    test(`${variant.format} ${variant.bitDepth}-bit ${variant.channels}-channel files are readable and the right size`, async () => {
      const result = await generate({ count: 1, width: 96, height: 64, ...variant });
      const info = await probeImage(result.images[0], limit);
      assert.equal(info.format, variant.format);
      assert.deepEqual([info.width, info.height, info.bitDepth], [96, 64, variant.bitDepth]);
      if (variant.format === 'png' || variant.format === 'tiff') assert.equal(info.channels, variant.channels);

      const raster = await readRaster(result.images[0], limit);
      if (variant.bitDepth === 16) {
        // A 12-bit-camera-like range: above 8-bit values, far below 65535.
        const values = Array.from(raster.data);
        const [min, max] = [Math.min(...values), Math.max(...values)];
        assert.ok(min >= 300 && max <= 3500 && max > 1000, `range ${min}..${max}`);
      }
      const mask = await readMaskPng(result.masks[0]);
      assert.deepEqual([mask.width, mask.height], [96, 64]);
    });
  }

  test('16-bit JPEG, WebP or GIF is refused', async () => {
    for (const format of ['jpeg', 'webp', 'gif'] as const) {
      await assert.rejects(generate({ count: 1, format, bitDepth: 16 }), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'invalid_input');
        assert.match(err.message, /16-bit images can be written as PNG or TIFF only/);
        return true;
      });
    }
  });

  for (const classes of [2, 3] as const) {
    test(`${classes}-class masks hold only valid classes, all of them, over a sensible area`, async () => {
      const result = await generate({ count: 4, classes, width: 128, height: 96, seed: 7 });
      for (const maskFile of result.masks) {
        const { labels } = await readMaskPng(maskFile);
        const counts = new Array(256).fill(0);
        for (const label of labels) counts[label]++;
        const present = counts.flatMap((count, label) => (count > 0 ? [label] : []));
        assert.deepEqual(present, classes === 2 ? [0, 1] : [0, 1, 2], maskFile);
        const foreground = 1 - counts[0] / labels.length;
        assert.ok(foreground > 0.1 && foreground < 0.6, `${maskFile}: foreground ${foreground}`);
      }
    });
  }

  test('cells are brighter than the background in the written 8-bit images', async () => {
    const result = await generate({ count: 3, seed: 11 });
    for (let i = 0; i < result.images.length; i++) {
      const image = await readRaster(result.images[i], limit);
      const { labels } = await readMaskPng(result.masks[i]);
      const sums = [0, 0];
      const counts = [0, 0];
      labels.forEach((label, p) => {
        sums[label > 0 ? 1 : 0] += image.data[p];
        counts[label > 0 ? 1 : 0]++;
      });
      const [outside, inside] = [sums[0] / counts[0], sums[1] / counts[1]];
      assert.ok(inside > outside + 50, `${result.images[i]}: inside ${inside}, outside ${outside}`);
    }
  });
});

describe('renderSyntheticSample', () => {
  test('is deterministic and returns intensities in [0, 1] with matching labels', () => {
    const a = renderSyntheticSample(5, 64, 48, 3);
    const b = renderSyntheticSample(5, 64, 48, 3);
    assert.deepEqual(a, b);
    assert.equal(a.image.length, 64 * 48);
    assert.equal(a.labels.length, 64 * 48);
    assert.ok(a.image.every((v) => v >= 0 && v <= 1));
    assert.notDeepEqual(renderSyntheticSample(6, 64, 48, 3).labels, a.labels);
  });

  test('2 and 3 classes draw the same image; the nucleus is class 2 only with 3 classes', () => {
    const two = renderSyntheticSample(9, 64, 64, 2);
    const three = renderSyntheticSample(9, 64, 64, 3);
    assert.deepEqual(two.image, three.image);
    assert.deepEqual(
      Array.from(three.labels, (label) => (label > 0 ? 1 : 0)),
      Array.from(two.labels),
    );
    assert.ok(three.labels.includes(2));
  });
});
