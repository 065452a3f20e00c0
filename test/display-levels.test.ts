// The editor's display: contrast limits and gamma over the full 8- or 16-bit range, auto limits at
// percentiles, colormaps for grey images, channel toggles for RGB, and the host's true sample values.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { ImportRequest } from '../app/contract/schemas.js';
import { ImageSamplesPayload } from '../app/contract/studio.js';
import { importImages } from '../app/dataset/import-images.js';
import { COLORMAPS, colormapTable, packRgba } from '../app/editor/colormaps.js';
import { IDENTITY_LEVELS, autoLevels, levelsTable, sameLevels } from '../app/editor/display-levels.js';
import { type ImageSamples, defaultDisplay, renderDisplay, samplesAt, samplesFromRgba, showsAsStored, writeSamplesFromRgba } from '../app/editor/display-pixels.js';
import { toDisplay8 } from '../app/imaging/normalise.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import { tempDir } from './support/temp-dir.js';

const noSignal = { signal: new AbortController().signal };

function grey16(width: number, height: number, value: (x: number, y: number) => number): ImageSamples {
  const data = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
  return { width, height, channels: 1, maxValue: 65535, data, defaultLevels: { low: 0, high: 65535, gamma: 1 } };
}

describe('display levels', () => {
  it('maps the limits to black and white, with gamma bending the ramp between', () => {
    assert.deepEqual([...levelsTable(IDENTITY_LEVELS)], Array.from({ length: 256 }, (_, value) => value));
    const table = levelsTable({ low: 50, high: 150, gamma: 1 });
    assert.deepEqual([table[0], table[50], table[100], table[150], table[255]], [0, 0, 128, 255, 255]);
    const brighter = levelsTable({ low: 0, high: 255, gamma: 2 });
    assert.ok(brighter[64]! > 64 && brighter[0] === 0 && brighter[255] === 255);
    assert.ok(sameLevels({ ...IDENTITY_LEVELS }, IDENTITY_LEVELS) && !sameLevels({ ...IDENTITY_LEVELS, gamma: 1.5 }, IDENTITY_LEVELS));
  });

  it('auto clips 0.35% at each end of the values, in the image own units', () => {
    // 1000 pixels: values 10..209 five times each, plus one outlier pixel at 0 and one at 255.
    const values = [0, 255, ...Array.from({ length: 1000 }, (_, index) => 10 + (index % 200))];
    const levels = autoLevels(Uint8Array.from(values), 255);
    assert.ok(levels.low >= 10 && levels.low <= 11, `low ${levels.low}`);
    assert.ok(levels.high >= 208 && levels.high <= 209, `high ${levels.high}`);
    assert.equal(levels.gamma, 1);
    // The same shape at 16-bit values keeps 16-bit limits: no squashing to 256 steps first.
    const wide = autoLevels(Uint16Array.from(values, (value) => value * 200 + 7), 65535);
    assert.ok(wide.low >= 2007 && wide.low <= 2207 && wide.high >= 41607 && wide.high <= 41807, `${wide.low}..${wide.high}`);
  });

  it("a late tile's values replace the stand-in's, and its part is computed alone exactly as in the whole picture", () => {
    const width = 7;
    const height = 5;
    const rgbaOf = (value: (x: number, y: number) => number, w: number, h: number, x0 = 0, y0 = 0) =>
      Uint8ClampedArray.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : value(x0 + ((i >> 2) % w), y0 + Math.floor((i >> 2) / w)) + (i % 4) * 3));
    const truth = (x: number, y: number) => 10 * x + 40 * y;
    const samples = samplesFromRgba(rgbaOf(() => 99, width, height), width, height, 3); // the stand-in: all one colour
    const tile = { x: 2, y: 1, width: 4, height: 3 };
    writeSamplesFromRgba(samples, rgbaOf(truth, tile.width, tile.height, tile.x, tile.y), tile);
    assert.deepEqual(samplesAt(samples, 3, 2), [truth(3, 2), truth(3, 2) + 3, truth(3, 2) + 6], 'inside the tile: its values');
    assert.deepEqual(samplesAt(samples, 1, 2), [99, 102, 105], 'outside: the stand-in still');
    const display = { ...defaultDisplay({ low: 20, high: 180, gamma: 1.4 }), channels: [true, false, true] as const };
    const whole = new Uint32Array(renderDisplay(samples, display).buffer);
    const part = new Uint32Array(renderDisplay(samples, display, tile).buffer);
    for (let y = 0; y < tile.height; y++) {
      for (let x = 0; x < tile.width; x++) assert.equal(part[y * tile.width + x], whole[(tile.y + y) * width + tile.x + x], `pixel ${tile.x + x},${tile.y + y}`);
    }
    const grey = samplesFromRgba(rgbaOf(truth, width, height), width, height, 1);
    const greyDisplay = { ...defaultDisplay({ low: 0, high: 200, gamma: 1 }), colormap: 'magma' as const };
    const greyWhole = new Uint32Array(renderDisplay(grey, greyDisplay).buffer);
    assert.deepEqual([...new Uint32Array(renderDisplay(grey, greyDisplay, { x: 6, y: 4, width: 1, height: 1 }).buffer)], [greyWhole[4 * width + 6]]);
  });

  it('16-bit images use their full range: limits 1000 apart inside one 8-bit step still spread black to white', () => {
    // Values 30000..30999 would all fall in one or two 8-bit steps after a squash to 8 bits.
    const samples = grey16(1000, 1, (x) => 30000 + x);
    const pixels = renderDisplay(samples, defaultDisplay({ low: 30000, high: 30999, gamma: 1 }));
    const shown = Array.from({ length: 1000 }, (_, x) => pixels[x * 4]!);
    assert.equal(shown[0], 0);
    assert.equal(shown[999], 255);
    assert.ok(new Set(shown).size === 256, `${new Set(shown).size} distinct grey levels shown`);
    for (let x = 1; x < 1000; x++) assert.ok(shown[x]! >= shown[x - 1]!, 'the ramp rises');
    assert.deepEqual(samplesAt(samples, 500, 0), [30500], 'the readout gives the stored value');
  });

  it('the default limits show a 16-bit image exactly as the display image (training normalisation) does', () => {
    const width = 64;
    const data = Uint16Array.from({ length: width * width }, (_, i) => (i * 7919) % 60000);
    const raster = { width, height: width, channels: 1 as const, bitDepth: 16 as const, data };
    const expected = toDisplay8(raster);
    // The limits the host reports for it: its 0.1th and 99.9th percentiles.
    const sorted = [...data].sort((a, b) => a - b);
    const low = sorted[Math.round(0.001 * (sorted.length - 1))]!;
    const high = sorted[Math.round(0.999 * (sorted.length - 1))]!;
    const samples: ImageSamples = { width, height: width, channels: 1, maxValue: 65535, data, defaultLevels: { low, high, gamma: 1 } };
    const pixels = renderDisplay(samples, defaultDisplay(samples.defaultLevels));
    for (let i = 0; i < expected.length; i++) assert.equal(pixels[i * 4], expected[i], `pixel ${i}`);
    assert.equal(showsAsStored(samples, defaultDisplay(samples.defaultLevels)), true);
    assert.equal(showsAsStored(samples, { ...defaultDisplay(samples.defaultLevels), colormap: 'magma' }), false);
  });
});

describe('colormaps and channels', () => {
  it('grey and inverted are ramps; viridis and magma run from their dark to their bright end', () => {
    const grey = colormapTable('grey');
    const inverted = colormapTable('inverted');
    for (const value of [0, 100, 255]) {
      assert.equal(grey[value], packRgba(value, value, value));
      assert.equal(inverted[value], packRgba(255 - value, 255 - value, 255 - value));
    }
    assert.equal(colormapTable('viridis')[0], packRgba(0x44, 0x01, 0x54));
    assert.equal(colormapTable('viridis')[255], packRgba(0xfd, 0xe7, 0x25));
    assert.equal(colormapTable('magma')[0], packRgba(0x00, 0x00, 0x04));
    assert.equal(colormapTable('magma')[255], packRgba(0xfc, 0xfd, 0xbf));
    const luminance = (colour: number) => (colour & 255) * 0.3 + ((colour >> 8) & 255) * 0.59 + ((colour >> 16) & 255) * 0.11;
    for (const name of ['viridis', 'magma'] as const) {
      const table = colormapTable(name);
      for (let value = 16; value < 256; value += 16) assert.ok(luminance(table[value]!) > luminance(table[value - 16]!), `${name} brightens at ${value}`);
    }
    assert.deepEqual([...COLORMAPS], ['grey', 'inverted', 'viridis', 'magma']);
  });

  it('a grey image goes through its colormap after the limits; an RGB image shows the channels switched on', () => {
    const greySamples = samplesFromRgba(new Uint8ClampedArray([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]), 3, 1, 1);
    assert.deepEqual([...greySamples.data], [0, 128, 255]);
    const magma = new Uint32Array(renderDisplay(greySamples, { ...defaultDisplay(IDENTITY_LEVELS), colormap: 'magma' }).buffer);
    assert.deepEqual([...magma], [0, 128, 255].map((value) => colormapTable('magma')[value]));
    const inverted = renderDisplay(greySamples, { ...defaultDisplay({ low: 0, high: 128, gamma: 1 }), colormap: 'inverted' });
    assert.deepEqual([inverted[0], inverted[4], inverted[8]], [255, 0, 0], 'limits first, then the colormap');

    const rgb = samplesFromRgba(new Uint8ClampedArray([10, 20, 30, 255, 200, 100, 50, 255]), 2, 1, 3);
    assert.deepEqual(samplesAt(rgb, 1, 0), [200, 100, 50]);
    const noGreen = renderDisplay(rgb, { ...defaultDisplay(IDENTITY_LEVELS), channels: [true, false, true] });
    assert.deepEqual([...noGreen], [10, 0, 30, 255, 200, 0, 50, 255]);
    assert.equal(showsAsStored(rgb, defaultDisplay(IDENTITY_LEVELS)), true);
    assert.equal(showsAsStored(rgb, { ...defaultDisplay(IDENTITY_LEVELS), channels: [true, false, true] }), false);
  });
});

describe('images.samples', () => {
  it('sends a 16-bit image true values (alpha dropped) with the limits its display image uses', async (t) => {
    const dir = await tempDir(t);
    const width = 40;
    const height = 30;
    const values = new Uint16Array(width * height * 2);
    for (let i = 0; i < width * height; i++) {
      values[i * 2] = 1000 + i * 37;
      values[i * 2 + 1] = 65535; // alpha
    }
    await fs.mkdir(path.join(dir, 'in'));
    await sharp(values, { raw: { width, height, channels: 2 } })
      .toColourspace('grey16')
      .png()
      .toFile(path.join(dir, 'in', 'deep.png'));
    const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
    await importImages(project, ImportRequest.parse({ project: project.root, images: [path.join(dir, 'in')] }));
    const [entry] = project.images;
    assert.equal(entry?.bitDepth, 16);
    const services = createAppServices({ browseHome: dir });
    t.after(() => services.close());
    const answer = await services.registry.dispatch('images.samples', { project: project.root, id: entry!.id }, noSignal);
    assert.ok(answer.ok, JSON.stringify(answer));
    const payload = ImageSamplesPayload.parse(answer.value);
    assert.deepEqual([payload.width, payload.height, payload.channels, payload.bitDepth], [width, height, 1, 16]);
    const bytes = inflateSync(Buffer.from(payload.base64, 'base64'));
    const got = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    assert.deepEqual([...got], Array.from({ length: width * height }, (_, i) => 1000 + i * 37));
    assert.ok(payload.displayLow > 1000 && payload.displayHigh < 1000 + (width * height - 1) * 37 && payload.displayHigh - payload.displayLow > 255, `${payload.displayLow}..${payload.displayHigh}`);
  });
});
