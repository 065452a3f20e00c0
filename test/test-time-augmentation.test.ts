import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { SegmentSettings } from '../app/contract/segmentation.js';
import { renderSyntheticSample } from '../app/dataset/synthetic.js';
import type { RasterImage } from '../app/imaging/read-image.js';
import { segmentImage } from '../app/inference/segment-image.js';
import { place, unplace } from '../app/inference/test-time-augmentation.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { parseJson, runCli } from './support/run-cli.js';
import { CELLS_MODEL, loadCellsModel } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';

const WIDTH = 64;
const HEIGHT = 48;

/** The eight flips and quarter turns, done by sharp (independently of the code under test). */
const SHARP_PLACEMENTS: ReadonlyArray<{ name: string; apply(image: Sharp): Sharp }> = [false, true].flatMap((mirror) =>
  [0, 90, 180, 270].map((angle) => ({
    name: `${mirror ? 'mirrored, ' : ''}turned ${angle}°`,
    apply: (image: Sharp) => (mirror ? image.flop() : image).rotate(angle),
  })),
);

function cellsRaster(): RasterImage {
  const { image } = renderSyntheticSample(7, WIDTH, HEIGHT, 2);
  return { width: WIDTH, height: HEIGHT, channels: 1, bitDepth: 8, data: Uint8Array.from(image, (value) => Math.round(value * 255)) };
}

/** `data` (WIDTH x HEIGHT, 8-bit, `channels` interleaved) placed as `how` says, by sharp. */
async function placedBySharp(data: Uint8Array, channels: 1 | 3, how: (typeof SHARP_PLACEMENTS)[number]): Promise<{ data: Uint8Array; width: number; height: number }> {
  const turned = how.apply(sharp(data, { raw: { width: WIDTH, height: HEIGHT, channels } }));
  // sharp hands a grey raw image on as three equal channels.
  const placed = await (channels === 1 ? turned.extractChannel(0) : turned).raw().toBuffer({ resolveWithObject: true });
  assert.equal(placed.info.channels, channels);
  return { data: new Uint8Array(placed.data), width: placed.info.width, height: placed.info.height };
}

test('place and unplace: every flip and quarter turn is undone exactly, and the eight differ', () => {
  const planes = 2;
  const data = Float32Array.from({ length: planes * 5 * 3 }, (_, index) => index);
  const seen = new Set<string>();
  for (const mirror of [false, true]) {
    for (let turns = 0; turns < 4; turns++) {
      const placed = place(data, planes, 5, 3, { mirror, turns });
      assert.deepEqual([placed.height, placed.width], turns % 2 ? [3, 5] : [5, 3]);
      assert.notEqual(placed.data, data, 'always a new array');
      seen.add(Array.from(placed.data).join());
      const back = unplace(placed.data, planes, placed.height, placed.width, { mirror, turns });
      assert.deepEqual(Array.from(back.data), Array.from(data), `mirror ${mirror}, ${turns} turns`);
    }
  }
  assert.equal(seen.size, 8);
});

test('--tta: the probabilities are the mean of the eight placed images segmented on their own and placed back', async () => {
  const loaded = await loadCellsModel();
  try {
    const raster = cellsRaster();
    const settings = SegmentSettings.parse({ tile: 64, overlap: 16 });
    const probabilitiesOf = async (image: RasterImage, tta: boolean) => {
      const foreground = new Float32Array(image.width * image.height);
      const { map } = await segmentImage(loaded.session, loaded.description, image, {
        settings: { ...settings, tta },
        onProbabilityRow: async (y, row) => foreground.set(row.subarray(image.width, 2 * image.width), y * image.width),
      });
      return { foreground, labels: map.labels };
    };
    const withTta = await probabilitiesOf(raster, true);
    const plain = await probabilitiesOf(raster, false);

    // Where each pixel goes under a placement: placing an image of pixel numbers (low byte red, high byte green) through sharp tells.
    const numbers = Uint8Array.from({ length: 3 * WIDTH * HEIGHT }, (_, at) => (at % 3 === 0 ? Math.floor(at / 3) & 255 : at % 3 === 1 ? Math.floor(at / 3) >> 8 : 0));
    const expected = new Float32Array(WIDTH * HEIGHT);
    for (const how of SHARP_PLACEMENTS) {
      const image = await placedBySharp(raster.data as Uint8Array, 1, how);
      const encoded = (await placedBySharp(numbers, 3, how)).data;
      const index = Uint32Array.from({ length: WIDTH * HEIGHT }, (_, at) => encoded[3 * at]! + 256 * encoded[3 * at + 1]!);
      const placed: RasterImage = { width: image.width, height: image.height, channels: 1, bitDepth: 8, data: image.data };
      const { foreground } = await probabilitiesOf(placed, false);
      for (let at = 0; at < index.length; at++) expected[index[at]!] = expected[index[at]!]! + foreground[at]! / SHARP_PLACEMENTS.length;
    }
    let largest = 0;
    let changed = 0;
    for (let i = 0; i < expected.length; i++) {
      largest = Math.max(largest, Math.abs(expected[i]! - withTta.foreground[i]!));
      changed = Math.max(changed, Math.abs(plain.foreground[i]! - withTta.foreground[i]!));
    }
    assert.ok(largest < 1e-4, `TTA differs from the mean of the placed images by up to ${largest}`);
    assert.ok(changed > 1e-3, 'the model is not symmetric, so averaging must change some probability');
    for (let i = 0; i < expected.length; i++) assert.equal(withTta.labels[i], withTta.foreground[i]! > 0.5 ? 1 : 0);
  } finally {
    await loaded.session.release();
  }
});

test('CLI: segment --tta writes the labels of the averaged probabilities', async (t) => {
  const dir = await tempDir(t);
  const input = path.join(dir, 'in');
  await fs.mkdir(input);
  const raster = cellsRaster();
  await sharp(Buffer.from(raster.data), { raw: { width: WIDTH, height: HEIGHT, channels: 1 } }).png().toFile(path.join(input, 'cells.png'));
  const run = await runCli(['segment', '--model', CELLS_MODEL, '--classes', 'cell', '--normalisation', 'unit', '--input', input, '--output', path.join(dir, 'out'), '--tile', '64', '--overlap', '16', '--tta', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const report = parseJson<{ segmented: unknown[] }>(run);
  assert.equal(report.segmented.length, 1);
  const written = await readMaskPng(path.join(dir, 'out', 'cells_labels.png'));
  const loaded = await loadCellsModel();
  try {
    const { map } = await segmentImage(loaded.session, loaded.description, raster, { settings: SegmentSettings.parse({ tile: 64, overlap: 16, tta: true }) });
    assert.deepEqual(written.labels, map.labels);
  } finally {
    await loaded.session.release();
  }
});
