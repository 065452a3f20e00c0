import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { AppError } from '../app/contract/errors.js';
import { NORMALISATION_RULE, normalisedFloat, toDisplay8 } from '../app/imaging/normalise.js';
import { DEFAULT_MAX_PIXELS } from '../app/imaging/pixel-limit.js';
import { probeImage, readRaster, type RasterImage } from '../app/imaging/read-image.js';
import { writeThumbnail } from '../app/imaging/thumbnail.js';
import { bmpFile } from './support/bmp-file.js';

const limit = { maxPixels: DEFAULT_MAX_PIXELS };
let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'imaging-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Pixels whose values vary across the image and channels, so a mix-up of positions or channels shows. */
function ramp(width: number, height: number, channels: number, max: number, step = 37): number[] {
  return Array.from({ length: width * height * channels }, (_, i) => (i * step) % (max + 1));
}

function rawImage(values: number[], width: number, height: number, channels: 1 | 2 | 3 | 4, bitDepth: 8 | 16) {
  const pixels = bitDepth === 16 ? Uint16Array.from(values) : Uint8Array.from(values);
  const grey = channels <= 2;
  const colourspace = grey ? (bitDepth === 16 ? 'grey16' : 'b-w') : bitDepth === 16 ? 'rgb16' : 'srgb';
  return sharp(pixels, { raw: { width, height, channels } }).toColourspace(colourspace);
}

async function expectAppError(work: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(work, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('probeImage and readRaster', () => {
  test('8-bit grey PNG keeps its exact values', async () => {
    const file = path.join(dir, 'grey8.png');
    const values = ramp(7, 5, 1, 255);
    await rawImage(values, 7, 5, 1, 8).png().toFile(file);

    assert.deepEqual(await probeImage(file, limit), { format: 'png', width: 7, height: 5, channels: 1, bitDepth: 8, pages: 1 });
    const raster = await readRaster(file, limit);
    assert.equal(raster.channels, 1);
    assert.ok(raster.data instanceof Uint8Array);
    assert.deepEqual(Array.from(raster.data), values);
  });

  test('RGB JPEG decodes to three channels close to what was written', async () => {
    const file = path.join(dir, 'rgb.jpg');
    const values = Array.from({ length: 16 * 16 * 3 }, (_, i) => [200, 100, 30][i % 3]);
    await rawImage(values, 16, 16, 3, 8).jpeg({ quality: 95 }).toFile(file);

    assert.deepEqual(await probeImage(file, limit), { format: 'jpeg', width: 16, height: 16, channels: 3, bitDepth: 8, pages: 1 });
    const raster = await readRaster(file, limit);
    assert.equal(raster.data.length, 16 * 16 * 3);
    for (let i = 0; i < raster.data.length; i++) assert.ok(Math.abs(raster.data[i] - values[i]) <= 4, `sample ${i}`);
  });

  test('RGBA PNG keeps all four channels', async () => {
    const file = path.join(dir, 'rgba.png');
    const values = ramp(6, 4, 4, 255, 11);
    await rawImage(values, 6, 4, 4, 8).png().toFile(file);

    const raster = await readRaster(file, limit);
    assert.equal(raster.channels, 4);
    assert.deepEqual(Array.from(raster.data), values);
  });

  test('grey+alpha PNG decodes to two channels, alpha kept', async () => {
    const file = path.join(dir, 'grey-alpha.png');
    const values = Array.from({ length: 5 * 3 * 2 }, (_, i) => (i % 2 === 0 ? i * 8 : 255 - i));
    await rawImage(values, 5, 3, 2, 8).png().toFile(file);

    assert.equal((await probeImage(file, limit)).channels, 2);
    const raster = await readRaster(file, limit);
    assert.equal(raster.channels, 2);
    assert.deepEqual(Array.from(raster.data), values);
  });

  for (const format of ['png', 'tiff'] as const) {
    test(`16-bit grey ${format.toUpperCase()} keeps values above 255`, async () => {
      const file = path.join(dir, `grey16.${format}`);
      const values = ramp(9, 6, 1, 65535, 1201);
      const image = rawImage(values, 9, 6, 1, 16);
      await (format === 'png' ? image.png() : image.tiff({ compression: 'lzw' })).toFile(file);

      assert.deepEqual(await probeImage(file, limit), { format, width: 9, height: 6, channels: 1, bitDepth: 16, pages: 1 });
      const raster = await readRaster(file, limit);
      assert.ok(raster.data instanceof Uint16Array);
      assert.equal(raster.bitDepth, 16);
      assert.deepEqual(Array.from(raster.data), values);
    });
  }

  test('16-bit RGB PNG stays 16-bit', async () => {
    const file = path.join(dir, 'rgb16.png');
    const values = ramp(4, 4, 3, 65535, 3001);
    await rawImage(values, 4, 4, 3, 16).png().toFile(file);

    const raster = await readRaster(file, limit);
    assert.equal(raster.channels, 3);
    assert.deepEqual(Array.from(raster.data), values);
  });

  test('RGB TIFF keeps its exact values', async () => {
    const file = path.join(dir, 'rgb.tif');
    const values = ramp(8, 3, 3, 255, 23);
    await rawImage(values, 8, 3, 3, 8).tiff({ compression: 'lzw' }).toFile(file);

    assert.deepEqual(await probeImage(file, limit), { format: 'tiff', width: 8, height: 3, channels: 3, bitDepth: 8, pages: 1 });
    assert.deepEqual(Array.from((await readRaster(file, limit)).data), values);
  });

  test('multi-page TIFF reports its pages and reads the page asked for', async () => {
    const file = path.join(dir, 'pages.tif');
    const [width, height] = [6, 4];
    const pages = new Uint8Array(width * height * 3);
    pages.fill(10, 0, width * height);
    pages.fill(200, width * height, 2 * width * height);
    pages.fill(77, 2 * width * height);
    await sharp(pages, { raw: { width, height: height * 3, channels: 1, pageHeight: height } })
      .toColourspace('b-w')
      .tiff({ compression: 'lzw' })
      .toFile(file);

    assert.deepEqual(await probeImage(file, limit), { format: 'tiff', width, height, channels: 1, bitDepth: 8, pages: 3 });
    assert.deepEqual(new Set((await readRaster(file, limit)).data), new Set([10]));
    const second = await readRaster(file, { ...limit, page: 1 });
    assert.equal(second.height, height);
    assert.deepEqual(new Set(second.data), new Set([200]));
    assert.deepEqual(new Set((await readRaster(file, { ...limit, page: 2 })).data), new Set([77]));
    await expectAppError(readRaster(file, { ...limit, page: 3 }), 'invalid_image', /pages\.tif: has 3 page\(s\), so page 3 does not exist/);
  });

  test('GIF decodes to its RGBA colours', async () => {
    const file = path.join(dir, 'grey.gif');
    const values = Array.from({ length: 8 * 4 }, (_, i) => [0, 100, 200][i % 3]);
    await rawImage(values, 8, 4, 1, 8).gif().toFile(file);

    const info = await probeImage(file, limit);
    assert.equal(info.format, 'gif');
    assert.equal(info.pages, 1);
    const raster = await readRaster(file, limit);
    assert.equal(raster.channels, 4);
    for (let p = 0; p < values.length; p++) {
      assert.deepEqual(Array.from(raster.data.subarray(4 * p, 4 * p + 3)), [values[p], values[p], values[p]]);
    }
  });

  test('lossless WebP keeps its exact values', async () => {
    const file = path.join(dir, 'rgb.webp');
    const values = ramp(5, 5, 3, 255, 29);
    await rawImage(values, 5, 5, 3, 8).webp({ lossless: true }).toFile(file);

    assert.deepEqual(await probeImage(file, limit), { format: 'webp', width: 5, height: 5, channels: 3, bitDepth: 8, pages: 1 });
    assert.deepEqual(Array.from((await readRaster(file, limit)).data), values);
  });

  test('palette PNG decodes to its RGB colours', async () => {
    const file = path.join(dir, 'palette.png');
    const colours = [
      [255, 0, 0],
      [0, 0, 255],
      [0, 128, 0],
    ];
    const values = Array.from({ length: 6 * 2 }, (_, p) => colours[p % 3]).flat();
    await rawImage(values, 6, 2, 3, 8).png({ palette: true, colours: 4, dither: 0 }).toFile(file);

    assert.equal((await sharp(file).metadata()).isPalette, true);
    const raster = await readRaster(file, limit);
    assert.equal(raster.channels, 3);
    assert.deepEqual(Array.from(raster.data), values);
  });
});

describe('unreadable images', () => {
  async function encodedHalf(format: 'png' | 'jpeg', name: string): Promise<string> {
    const image = rawImage(ramp(64, 64, 3, 255, 41), 64, 64, 3, 8);
    const bytes = await (format === 'png' ? image.png() : image.jpeg()).toBuffer();
    const file = path.join(dir, name);
    await writeFile(file, bytes.subarray(0, bytes.length >> 1));
    return file;
  }

  test('truncated PNG is reported as truncated or corrupt', async () => {
    const file = await encodedHalf('png', 'cut.png');
    await expectAppError(readRaster(file, limit), 'invalid_image', /cut\.png: truncated or corrupt PNG \(libvips: .+\)/);
  });

  test('truncated JPEG is reported as truncated or corrupt', async () => {
    const file = await encodedHalf('jpeg', 'cut.jpg');
    await expectAppError(readRaster(file, limit), 'invalid_image', /cut\.jpg: truncated or corrupt JPEG \(libvips: .*premature end/i);
  });

  test('zero-byte file', async () => {
    const file = path.join(dir, 'empty.png');
    await writeFile(file, Buffer.alloc(0));
    await expectAppError(probeImage(file, limit), 'invalid_image', /empty\.png: empty file/);
  });

  test('text file named .png', async () => {
    const file = path.join(dir, 'notes.png');
    await writeFile(file, 'these are notes, not pixels\n');
    await expectAppError(
      readRaster(file, limit),
      'invalid_image',
      /notes\.png: not an image sharp can read \(supported: PNG, JPEG, TIFF, GIF, WebP\)/,
    );
  });

  test('BMP is named and the fix given', async () => {
    const file = path.join(dir, 'scan.bmp');
    await writeFile(file, bmpFile());
    await expectAppError(probeImage(file, limit), 'invalid_image', /scan\.bmp: BMP images are not supported; convert the file to PNG/);
  });

  test('missing file is not_found', async () => {
    await expectAppError(readRaster(path.join(dir, 'nowhere.png'), limit), 'not_found', /nowhere\.png: no such file or folder/);
  });

  test('pixel limit is enforced from the header, before decoding', async () => {
    const file = path.join(dir, 'big.png');
    await rawImage(ramp(20, 10, 1, 255), 20, 10, 1, 8).png().toFile(file);
    const message = /big\.png: 20x10 \(200 pixels\) is over the pixel limit of 199 pixels\. Raise it with --max-pixels/;
    await expectAppError(probeImage(file, { maxPixels: 199 }), 'invalid_image', message);
    await expectAppError(readRaster(file, { maxPixels: 199 }), 'invalid_image', message);
    assert.equal((await readRaster(file, { maxPixels: 200 })).width, 20);
  });
});

describe('normalisation', () => {
  function grey16(values: number[]): RasterImage {
    return { width: values.length, height: 1, channels: 1, bitDepth: 16, data: Uint16Array.from(values) };
  }

  test('16-bit stretches the 0.1th..99.9th percentile to [0, 1] and clips outliers', () => {
    // 10 000 samples: five at 0, 1005..10994, five at 65535. Nearest-rank percentiles: 1010 and 10989.
    const values = [...Array(5).fill(0), ...Array.from({ length: 9990 }, (_, i) => 1005 + i), ...Array(5).fill(65535)];
    const raster = grey16(values);
    const floats = normalisedFloat(raster);
    const at = (v: number) => floats[values.indexOf(v)];

    assert.equal(at(0), 0);
    assert.equal(at(1010), 0);
    assert.equal(at(1005), 0);
    assert.ok(Math.abs(at(5999) - (5999 - 1010) / (10989 - 1010)) < 1e-6);
    assert.equal(at(10989), 1);
    assert.equal(at(65535), 1);

    const display = toDisplay8(raster);
    assert.equal(display[values.indexOf(1010)], 0);
    assert.equal(display[values.indexOf(6000)], Math.round(((6000 - 1010) / (10989 - 1010)) * 255));
    assert.equal(display[values.indexOf(65535)], 255);
  });

  test('16-bit image with equal percentiles falls back to value/65535', () => {
    const floats = normalisedFloat(grey16(Array(100).fill(3000)));
    assert.ok(Math.abs(floats[0] - 3000 / 65535) < 1e-7);
  });

  test('8-bit is value/255, and the percentile stretch does not apply', () => {
    const raster: RasterImage = { width: 3, height: 1, channels: 1, bitDepth: 8, data: Uint8Array.from([100, 110, 120]) };
    assert.deepEqual(Array.from(normalisedFloat(raster)), [100 / 255, 110 / 255, 120 / 255].map(Math.fround));
    assert.deepEqual(Array.from(toDisplay8(raster)), [100, 110, 120]);
  });

  test('alpha is scaled by its full range, not stretched', () => {
    const raster: RasterImage = { width: 2, height: 1, channels: 2, bitDepth: 16, data: Uint16Array.from([1000, 65535, 2000, 0]) };
    assert.deepEqual(Array.from(normalisedFloat(raster)), [0, 1, 1, 0]);
  });

  test('the rule is stated in one sentence', () => {
    assert.match(NORMALISATION_RULE, /0\.1th.*99\.9th percentile/);
  });
});

describe('writeThumbnail', () => {
  function gradient(width: number, height: number): RasterImage {
    const data = new Uint16Array(width * height);
    for (let p = 0; p < data.length; p++) data[p] = 300 + (p % width) * 3;
    return { width, height, channels: 1, bitDepth: 16, data };
  }

  test('shrinks to fit 256 keeping the aspect ratio, and leaves no temp file', async () => {
    const thumbDir = await mkdtemp(path.join(dir, 'thumbs-'));
    const outFile = path.join(thumbDir, 'wide.webp');
    await writeThumbnail(gradient(1000, 500), outFile);

    const meta = await sharp(outFile).metadata();
    assert.equal(meta.format, 'webp');
    assert.deepEqual([meta.width, meta.height], [256, 128]);
    assert.deepEqual(await readdir(thumbDir), ['wide.webp']);
    // The percentile stretch makes the darkest column black and the brightest white.
    const { data } = await sharp(outFile).greyscale().raw().toBuffer({ resolveWithObject: true });
    assert.ok(data[0] < 20 && data[255] > 235, `edges ${data[0]}, ${data[255]}`);
  });

  test('never upscales, and drops alpha', async () => {
    const outFile = path.join(dir, 'small.webp');
    const data = new Uint8Array(40 * 30 * 4).fill(128);
    await writeThumbnail({ width: 40, height: 30, channels: 4, bitDepth: 8, data }, outFile);

    const meta = await sharp(outFile).metadata();
    assert.deepEqual([meta.width, meta.height, meta.hasAlpha], [40, 30, false]);
  });
});
