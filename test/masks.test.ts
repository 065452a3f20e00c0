import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { AppError } from '../app/contract/errors.js';
import { DEFAULT_MAX_PIXELS } from '../app/imaging/pixel-limit.js';
import type { ClassDef } from '../app/contract/schemas.js';
import { decodeMask, type DecodeMaskOptions } from '../app/masks/decode-mask.js';
import { IGNORE_LABEL } from '../app/contract/schemas.js';
import type { LabelMap } from '../app/masks/label-map.js';
import { encodeMaskPng, readMaskPng } from '../app/masks/mask-png.js';
import { readPngPalette } from '../app/masks/png-palette.js';
import { applyRegionOfInterest } from '../app/masks/roi.js';

const TWO_CLASSES: ClassDef[] = [
  { id: 0, name: 'background', color: '#000000' },
  { id: 1, name: 'cell', color: '#ff0000' },
];
const THREE_CLASSES: ClassDef[] = [
  { id: 0, name: 'background', color: '#000000' },
  { id: 1, name: 'cytoplasm', color: '#00ff00' },
  { id: 2, name: 'nucleus', color: '#0000FF' },
];
const [W, H] = [4, 3];

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'masks-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(classes: ClassDef[], mode: DecodeMaskOptions['mode'] = 'auto'): DecodeMaskOptions {
  return { mode, classes, expectedWidth: W, expectedHeight: H, maxPixels: DEFAULT_MAX_PIXELS };
}

/** Writes a W x H mask from per-pixel values (numbers for grey, [r, g, b] for colour). */
async function writeMask(name: string, pixels: Array<number | number[]>, format: 'png' | 'gif' = 'png', bitDepth: 8 | 16 = 8) {
  const channels = Array.isArray(pixels[0]) ? 3 : 1;
  const flat = pixels.flat();
  const data = bitDepth === 16 ? Uint16Array.from(flat) : Uint8Array.from(flat);
  const colourspace = channels === 1 ? (bitDepth === 16 ? 'grey16' : 'b-w') : 'srgb';
  const image = sharp(data, { raw: { width: W, height: pixels.length / W, channels } }).toColourspace(colourspace);
  const file = path.join(dir, `${name}.${format}`);
  await (format === 'png' ? image.png() : image.gif()).toFile(file);
  return file;
}

/** An 8-bit indexed-colour PNG built chunk by chunk, so the palette is exactly the one given. */
async function writePalettePng(name: string, palette: number[][], indexes: number[]): Promise<string> {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(W, 0);
  header.writeUInt32BE(indexes.length / W, 4);
  header[8] = 8; // bit depth
  header[9] = 3; // colour type: indexed
  const rows: number[] = [];
  for (let y = 0; y < indexes.length / W; y++) rows.push(0, ...indexes.slice(y * W, (y + 1) * W)); // filter 0 per row
  const file = path.join(dir, `${name}.png`);
  await writeFile(
    file,
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', header),
      chunk('PLTE', Buffer.from(palette.flat())),
      chunk('IDAT', deflateSync(Buffer.from(rows))),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
  return file;
}

async function expectMaskError(work: Promise<unknown>, message: RegExp, details?: object): Promise<void> {
  await assert.rejects(work, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
    assert.equal(err.code, 'invalid_mask');
    assert.match(err.message, message);
    if (details) assert.deepEqual(err.details, details);
    return true;
  });
}

// A 256-entry VOC-like palette: 0 black, 1 green, 2 blue, 3 green again, 255 the cream border colour.
const VOC_PALETTE = Array.from({ length: 256 }, (_, i) => [[0, 0, 0], [0, 255, 0], [0, 0, 255], [0, 255, 0]][i] ?? [i, i, i]);
VOC_PALETTE[255] = [224, 224, 192];

describe('decodeMask', () => {
  test('binary 0/255, explicit and auto', async () => {
    const file = await writeMask('binary255', [0, 255, 255, 0, 0, 0, 255, 0, 255, 255, 255, 255]);
    const expected = [0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1];
    for (const mode of ['binary', 'auto'] as const) {
      const mask = await decodeMask(file, options(TWO_CLASSES, mode));
      assert.equal(mask.mode, 'binary');
      assert.deepEqual([mask.width, mask.height], [W, H]);
      assert.deepEqual(Array.from(mask.labels), expected);
    }
  });

  test('binary 0/1 in a 3-class project gives class 1', async () => {
    const file = await writeMask('binary01', [0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1]);
    const mask = await decodeMask(file, options(THREE_CLASSES));
    assert.equal(mask.mode, 'binary');
    assert.deepEqual(Array.from(mask.labels), [0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1]);
  });

  test('binary mode rejects a third value and lists what it found', async () => {
    const file = await writeMask('binary-mixed', [0, 128, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    await expectMaskError(
      decodeMask(file, options(TWO_CLASSES, 'binary')),
      /binary-mixed\.png: a binary mask must hold only 0 and 255, or 0 and 1, but it has values 0 \(10 pixels\), 128 \(1 pixel\), 255 \(1 pixel\)/,
    );
  });

  test('indexed 3-class with 255 = ignore, explicit and auto', async () => {
    const values = [0, 1, 2, 255, 2, 2, 1, 0, 0, 1, 2, 255];
    const file = await writeMask('indexed', values);
    for (const mode of ['indexed', 'auto'] as const) {
      const mask = await decodeMask(file, options(THREE_CLASSES, mode));
      assert.equal(mask.mode, 'indexed');
      assert.deepEqual(Array.from(mask.labels), values);
    }
  });

  test('indexed values that are not classes are listed, sorted, with pixel counts', async () => {
    const file = await writeMask('out-of-range', [0, 7, 7, 3, 1, 2, 0, 0, 7, 0, 0, 0]);
    await expectMaskError(
      decodeMask(file, options(THREE_CLASSES)),
      /^.*out-of-range\.png: values 3 \(1 pixel\), 7 \(3 pixels\) are not classes of this project \(classes 0-2, 255 = ignore\)$/,
    );
  });

  test('more than 20 bad values are cut short with an ellipsis', async () => {
    const file = await writeMask('many-values', Array.from({ length: 24 }, (_, i) => 10 + i), 'png');
    const options24 = { ...options(THREE_CLASSES, 'indexed' as const), expectedHeight: 6 };
    await expectMaskError(decodeMask(file, options24), /values 10 \(1 pixel\), .*, 29 \(1 pixel\), … are not classes/);
  });

  test('colour mask maps exact class colours, explicit and auto', async () => {
    const file = await writeMask('colour', [
      [0, 0, 0], [0, 255, 0], [0, 0, 255], [0, 0, 0],
      [0, 255, 0], [0, 255, 0], [0, 0, 255], [0, 0, 0],
      [0, 0, 0], [0, 0, 0], [0, 0, 255], [0, 255, 0],
    ]);
    for (const mode of ['colour', 'auto'] as const) {
      const mask = await decodeMask(file, options(THREE_CLASSES, mode));
      assert.equal(mask.mode, 'colour');
      assert.deepEqual(Array.from(mask.labels), [0, 1, 2, 0, 1, 1, 2, 0, 0, 0, 2, 1]);
    }
  });

  test('colours that are not class colours are listed as hex with the expected colours', async () => {
    const file = await writeMask('odd-colours', [
      [0, 0, 0], [255, 255, 255], [255, 255, 255], [0, 0, 0],
      [0, 255, 0], [255, 0, 255], [0, 0, 255], [0, 0, 0],
      [0, 0, 0], [0, 0, 0], [0, 0, 255], [0, 255, 0],
    ]);
    await expectMaskError(
      decodeMask(file, options(THREE_CLASSES)),
      /odd-colours\.png: colours #ffffff \(2 pixels\), #ff00ff \(1 pixel\) are not class colours of this project \(expected #000000 background, #00ff00 cytoplasm, #0000ff nucleus\)/,
    );
  });

  test('palette PNG: label = first palette index with the colour, 255 = ignore; auto picks palette', async () => {
    const file = await writePalettePng('voc', VOC_PALETTE, [0, 1, 2, 3, 255, 0, 1, 2, 0, 0, 255, 1]);
    assert.deepEqual(await readPngPalette(file), VOC_PALETTE);
    for (const mode of ['palette', 'auto'] as const) {
      const mask = await decodeMask(file, options(THREE_CLASSES, mode));
      assert.equal(mask.mode, 'palette');
      assert.deepEqual(Array.from(mask.labels), [0, 1, 2, 1, IGNORE_LABEL, 0, 1, 2, 0, 0, IGNORE_LABEL, 1]);
    }
  });

  test('palette indexes beyond the classes are reported', async () => {
    const file = await writePalettePng('voc-extra', VOC_PALETTE, [0, 1, 2, 40, 0, 0, 0, 0, 0, 0, 0, 0]);
    await expectMaskError(
      decodeMask(file, options(THREE_CLASSES, 'palette')),
      /voc-extra\.png: palette index 40 \(1 pixel\) is not a class of this project \(classes 0-2, 255 = ignore\)/,
    );
  });

  test('palette mode needs an indexed-colour PNG', async () => {
    const file = await writeMask('grey-for-palette', Array(12).fill(0));
    assert.equal(await readPngPalette(file), null);
    await expectMaskError(decodeMask(file, options(THREE_CLASSES, 'palette')), /grey-for-palette\.png: not an indexed-colour \(palette\) PNG/);
  });

  test('grey GIF masks are read as grey (binary or indexed)', async () => {
    const binary = await writeMask('binary-gif', [0, 255, 255, 0, 0, 0, 255, 0, 0, 0, 0, 0], 'gif');
    const binaryMask = await decodeMask(binary, options(TWO_CLASSES));
    assert.equal(binaryMask.mode, 'binary');
    assert.deepEqual(Array.from(binaryMask.labels), [0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]);

    const indexed = await writeMask('indexed-gif', [0, 1, 2, 0, 0, 0, 2, 0, 1, 0, 0, 0], 'gif');
    const indexedMask = await decodeMask(indexed, options(THREE_CLASSES));
    assert.equal(indexedMask.mode, 'indexed');
    assert.deepEqual(Array.from(indexedMask.labels), [0, 1, 2, 0, 0, 0, 2, 0, 1, 0, 0, 0]);
  });

  test('16-bit masks: 0/65535 is binary, small values are indexed, others are rejected', async () => {
    const binary = await writeMask('binary16', [0, 65535, 65535, 0, 0, 0, 65535, 0, 0, 0, 0, 0], 'png', 16);
    const binaryMask = await decodeMask(binary, options(TWO_CLASSES));
    assert.equal(binaryMask.mode, 'binary');
    assert.deepEqual(Array.from(binaryMask.labels), [0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]);

    const indexed = await writeMask('indexed16', [0, 1, 2, 255, 0, 0, 2, 0, 1, 0, 0, 0], 'png', 16);
    assert.deepEqual(Array.from((await decodeMask(indexed, options(THREE_CLASSES))).labels), [0, 1, 2, 255, 0, 0, 2, 0, 1, 0, 0, 0]);

    const wide = await writeMask('wide16', [0, 1, 1000, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'png', 16);
    await expectMaskError(decodeMask(wide, options(THREE_CLASSES)), /wide16\.png: value 1000 \(1 pixel\) is not a class/);
  });

  test('alpha is ignored', async () => {
    const file = path.join(dir, 'alpha.png');
    const rgba = Uint8Array.from([0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0, 10, 0, 0, 0, 255].concat(Array(32).fill(0)));
    await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toFile(file);
    const mask = await decodeMask(file, options(TWO_CLASSES));
    assert.equal(mask.mode, 'colour');
    assert.deepEqual(Array.from(mask.labels.subarray(0, 4)), [0, 1, 1, 0]);
  });

  test('a mask of the wrong size names both sizes', async () => {
    const file = await writeMask('small', Array(8).fill(0));
    await expectMaskError(decodeMask(file, options(TWO_CLASSES)), new RegExp(`^${file.replace(/[.\\]/g, '\\$&')}: mask is 4x2 but its image is 4x3$`), {
      file,
      width: 4,
      height: 2,
      expectedWidth: 4,
      expectedHeight: 3,
    });
  });

  test('a corrupt mask file is an invalid_mask error naming the file', async () => {
    const file = path.join(dir, 'broken.png');
    const good = await sharp(Uint8Array.from({ length: 64 * 64 }, (_, i) => (i * 7) % 256), { raw: { width: 64, height: 64, channels: 1 } })
      .png()
      .toBuffer();
    await writeFile(file, good.subarray(0, good.length >> 1));
    await expectMaskError(decodeMask(file, options(TWO_CLASSES)), /broken\.png: truncated or corrupt PNG/);
  });
});

describe('applyRegionOfInterest', () => {
  test('labels outside the region become IGNORE_LABEL, inside stay', async () => {
    const roi = await writeMask('roi', [
      [0, 0, 0], [9, 0, 0], [255, 255, 255], [0, 0, 0],
      [0, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0],
      [1, 1, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0],
    ]);
    const map: LabelMap = { width: W, height: H, labels: Uint8Array.from([1, 1, 2, 0, 1, 0, 2, 2, 0, 1, 1, 1]) };
    await applyRegionOfInterest(map, roi, { maxPixels: DEFAULT_MAX_PIXELS });
    const I = IGNORE_LABEL;
    assert.deepEqual(Array.from(map.labels), [I, 1, 2, I, I, 0, I, I, 0, I, I, I]);
  });

  test('a region of interest of the wrong size is rejected, naming the ROI file', async () => {
    const roi = await writeMask('roi-small', Array(8).fill(255));
    const map: LabelMap = { width: W, height: H, labels: new Uint8Array(W * H) };
    await expectMaskError(
      applyRegionOfInterest(map, roi, { maxPixels: DEFAULT_MAX_PIXELS }),
      /roi-small\.png: region of interest is 4x2 but its mask is 4x3/,
    );
    assert.deepEqual(Array.from(map.labels), Array(W * H).fill(0));
  });
});

describe('label map PNG', () => {
  test('encode then read gives back the same labels, as an 8-bit single-channel PNG', async () => {
    const map: LabelMap = { width: 7, height: 5, labels: Uint8Array.from({ length: 35 }, (_, i) => [0, 1, 2, 3, 255][i % 5]) };
    const file = path.join(dir, 'labels.png');
    await writeFile(file, await encodeMaskPng(map));

    const meta = await sharp(file).metadata();
    assert.deepEqual([meta.format, meta.channels, meta.depth, meta.isPalette], ['png', 1, 'uchar', false]);
    const back = await readMaskPng(file);
    assert.deepEqual([back.width, back.height], [7, 5]);
    assert.deepEqual(Array.from(back.labels), Array.from(map.labels));
  });

  test('reading a colour PNG as a label map fails clearly', async () => {
    const file = await writeMask('not-labels', Array(12).fill([1, 2, 3]));
    await expectMaskError(readMaskPng(file), /not-labels\.png: not a stored label map \(expected an 8-bit single-channel PNG, found 8-bit 3-channel PNG\)/);
  });
});
