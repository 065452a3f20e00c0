/*
 * How a mask file becomes class labels (the README quotes these rules).
 *
 *   binary   Grey values must all be in {0, 255} or all in {0, 1} (16-bit: {0, 65535} too).
 *            0 is class 0, the other value is class 1.
 *   indexed  Grey value = class id. Valid values: 0 .. classes.length - 1, and 255 = ignore.
 *   colour   The RGB colour must exactly equal a class colour; that class's id is the label.
 *            No colour is special (pure white is only a class if a class has that colour).
 *   palette  Indexed-colour PNG: label = palette index, found by mapping each decoded colour back
 *            to the FIRST palette entry with that colour. Index 255 = ignore (Pascal VOC's border).
 *   auto     1. If any pixel has R != G or G != B (true colour content): palette if the file is an
 *               indexed-colour PNG, else colour.
 *            2. Otherwise the mask is grey (one channel, or RGB with R = G = B everywhere, as in
 *               GIF masks): binary if its values fit the binary rule, else indexed.
 *
 * An alpha channel is ignored. 16-bit masks are accepted when their values fit the grey rules;
 * colour and palette masks must be 8-bit.
 */
import { AppError } from '../contract/errors.js';
import { type ClassDef, IGNORE_LABEL, type MaskMode } from '../contract/schemas.js';
import { colourChannelCount, readRaster, type RasterImage } from '../imaging/read-image.js';
import type { LabelMap } from './label-map.js';
import { asMaskErrors } from './mask-errors.js';
import { readPngPalette } from './png-palette.js';


export interface DecodeMaskOptions {
  mode: MaskMode;
  /** Class 0 is the background; ids run 0 .. classes.length - 1. */
  classes: readonly ClassDef[];
  expectedWidth: number;
  expectedHeight: number;
  maxPixels: number;
  page?: number;
}

export interface DecodedMask extends LabelMap {
  mode: Exclude<MaskMode, 'auto'>;
}

/** At most this many offending values or colours are listed in an error message. */
const MAX_LISTED = 20;

const PLURAL = { value: 'values', 'palette index': 'palette indexes' } as const;

export async function decodeMask(file: string, opts: DecodeMaskOptions): Promise<DecodedMask> {
  assertClassIdsContiguous(opts.classes);
  const raster = await asMaskErrors(readRaster(file, { maxPixels: opts.maxPixels, page: opts.page }));
  if (raster.width !== opts.expectedWidth || raster.height !== opts.expectedHeight) {
    throw new AppError(
      'invalid_mask',
      `${file}: mask is ${raster.width}x${raster.height} but its image is ${opts.expectedWidth}x${opts.expectedHeight}`,
      { file, width: raster.width, height: raster.height, expectedWidth: opts.expectedWidth, expectedHeight: opts.expectedHeight },
    );
  }

  const mode = opts.mode === 'auto' ? await detectMode(file, raster) : opts.mode;
  const labels = await decodeLabels(file, raster, mode, opts.classes);
  return { width: raster.width, height: raster.height, labels, mode };
}

async function detectMode(file: string, raster: RasterImage): Promise<Exclude<MaskMode, 'auto'>> {
  if (!isGrey(raster)) return (await readPngPalette(file)) ? 'palette' : 'colour';
  return binaryForeground(valueCounts(greyValues(raster))) === undefined ? 'indexed' : 'binary';
}

async function decodeLabels(
  file: string,
  raster: RasterImage,
  mode: Exclude<MaskMode, 'auto'>,
  classes: readonly ClassDef[],
): Promise<Uint8Array> {
  switch (mode) {
    case 'binary':
      return decodeBinary(file, raster, classes);
    case 'indexed':
      return decodeIndexed(file, greyValues(raster), classes, 'value');
    case 'colour':
      return decodeColour(file, raster, classes);
    case 'palette':
      return decodePalette(file, raster, classes);
  }
}

function decodeBinary(file: string, raster: RasterImage, classes: readonly ClassDef[]): Uint8Array {
  if (classes.length < 2) {
    throw new AppError('invalid_mask', `${file}: binary masks need a project with at least 2 classes`, { file });
  }
  const values = greyValues(raster);
  const counts = valueCounts(values);
  if (binaryForeground(counts) === undefined) {
    const allowed = raster.bitDepth === 16 ? '0 and 255, 0 and 65535, or 0 and 1' : '0 and 255, or 0 and 1';
    throw new AppError(
      'invalid_mask',
      `${file}: a binary mask must hold only ${allowed}, but it has values ${listCounts(counts, String)}`,
      { file, values: countsDetail(counts) },
    );
  }
  return Uint8Array.from(values, (v) => (v === 0 ? 0 : 1));
}

/** The single nonzero value of a binary mask, 0 if it is all background, undefined if it is not binary. */
function binaryForeground(counts: Map<number, number>): number | undefined {
  const nonzero = [...counts.keys()].filter((v) => v !== 0);
  if (nonzero.length === 0) return 0;
  return nonzero.length === 1 && [1, 255, 65535].includes(nonzero[0]) ? nonzero[0] : undefined;
}

function decodeIndexed(
  file: string,
  indexes: ArrayLike<number>,
  classes: readonly ClassDef[],
  noun: 'value' | 'palette index',
): Uint8Array {
  const isLabel = (v: number) => v < classes.length || v === IGNORE_LABEL;
  const invalid = new Map([...valueCounts(indexes)].filter(([v]) => !isLabel(v)));
  if (invalid.size > 0) {
    const listed = listCounts(invalid, String);
    const problem = invalid.size === 1 ? `${noun} ${listed} is not a class` : `${PLURAL[noun]} ${listed} are not classes`;
    throw new AppError(
      'invalid_mask',
      `${file}: ${problem} of this project (classes 0-${classes.length - 1}, ${IGNORE_LABEL} = ignore)`,
      { file, values: countsDetail(invalid), classCount: classes.length },
    );
  }
  return Uint8Array.from(indexes);
}

function decodeColour(file: string, raster: RasterImage, classes: readonly ClassDef[]): Uint8Array {
  assert8Bit(file, raster, 'colour');
  const classByColour = new Map(classes.map((c) => [parseHexColour(c.color), c.id]));
  const colours = packedColours(raster);
  const labels = new Uint8Array(colours.length);
  const unknown = new Map<number, number>();
  for (let i = 0; i < colours.length; i++) {
    const id = classByColour.get(colours[i]);
    if (id === undefined) unknown.set(colours[i], (unknown.get(colours[i]) ?? 0) + 1);
    else labels[i] = id;
  }
  if (unknown.size > 0) {
    // Most frequent first: a mask with thousands of anti-aliased edge colours should show its main offenders.
    const expected = classes.map((c) => `${c.color.toLowerCase()} ${c.name}`).join(', ');
    throw new AppError(
      'invalid_mask',
      `${file}: ${unknown.size === 1 ? 'colour' : 'colours'} ${listCounts(unknown, toHexColour, 'by-count')} ` +
        `${unknown.size === 1 ? 'is not a class colour' : 'are not class colours'} of this project (expected ${expected})`,
      { file, colours: countsDetail(unknown, toHexColour), expected: classes.map((c) => c.color.toLowerCase()) },
    );
  }
  return labels;
}

async function decodePalette(file: string, raster: RasterImage, classes: readonly ClassDef[]): Promise<Uint8Array> {
  const palette = await readPngPalette(file);
  if (!palette) {
    throw new AppError(
      'invalid_mask',
      `${file}: not an indexed-colour (palette) PNG, so it cannot be read in palette mode; use 'colour' or 'auto'`,
      { file },
    );
  }
  assert8Bit(file, raster, 'palette');
  const indexByColour = new Map<number, number>();
  palette.forEach(([r, g, b], index) => {
    const colour = (r << 16) | (g << 8) | b;
    if (!indexByColour.has(colour)) indexByColour.set(colour, index);
  });
  const colours = packedColours(raster);
  const indexes = new Uint8Array(colours.length);
  for (let i = 0; i < colours.length; i++) {
    const index = indexByColour.get(colours[i]);
    if (index === undefined) {
      throw new AppError('invalid_mask', `${file}: corrupt palette PNG (colour ${toHexColour(colours[i])} is not in its palette)`, {
        file,
      });
    }
    indexes[i] = index;
  }
  return decodeIndexed(file, indexes, classes, 'palette index');
}

function assertClassIdsContiguous(classes: readonly ClassDef[]): void {
  classes.forEach((c, index) => {
    if (c.id !== index) {
      throw new AppError('invalid_input', `class '${c.name}' has id ${c.id} but is number ${index} in the class list; ids must run 0, 1, 2, …`, {
        classes: classes.map((k) => k.id),
      });
    }
  });
}

function assert8Bit(file: string, raster: RasterImage, mode: 'colour' | 'palette'): void {
  if (raster.bitDepth !== 8) {
    throw new AppError('invalid_mask', `${file}: ${mode} masks must be 8-bit, but this one is 16-bit`, { file, bitDepth: 16 });
  }
}

/** True when the mask has no colour: one grey channel, or RGB with R = G = B at every pixel. */
function isGrey(raster: RasterImage): boolean {
  if (colourChannelCount(raster.channels) === 1) return true;
  const { data, channels } = raster;
  for (let i = 0; i < data.length; i += channels) {
    if (data[i] !== data[i + 1] || data[i + 1] !== data[i + 2]) return false;
  }
  return true;
}

/** The first channel of every pixel: the grey value of a grey mask (alpha ignored). */
function greyValues(raster: RasterImage): Uint8Array | Uint16Array {
  if (raster.channels === 1) return raster.data;
  const { data, channels } = raster;
  const grey = raster.bitDepth === 16 ? new Uint16Array(data.length / channels) : new Uint8Array(data.length / channels);
  for (let i = 0, p = 0; i < data.length; i += channels, p++) grey[p] = data[i];
  return grey;
}

/** 0xRRGGBB per pixel; a grey pixel v becomes (v, v, v). Alpha is ignored. */
function packedColours(raster: RasterImage): Uint32Array {
  const { data, channels } = raster;
  const colourChannels = colourChannelCount(channels);
  const colours = new Uint32Array(data.length / channels);
  for (let i = 0, p = 0; i < data.length; i += channels, p++) {
    const r = data[i];
    const g = colourChannels === 3 ? data[i + 1] : r;
    const b = colourChannels === 3 ? data[i + 2] : r;
    colours[p] = (r << 16) | (g << 8) | b;
  }
  return colours;
}

function valueCounts(values: ArrayLike<number>): Map<number, number> {
  const histogram = new Uint32Array(65536);
  for (let i = 0; i < values.length; i++) histogram[values[i]]++;
  const counts = new Map<number, number>();
  histogram.forEach((count, value) => {
    if (count > 0) counts.set(value, count);
  });
  return counts;
}

/** "3 (120 pixels), 7 (4 pixels)", in ascending order or most frequent first, at most MAX_LISTED then "…". */
function listCounts(counts: Map<number, number>, format: (value: number) => string, order: 'ascending' | 'by-count' = 'ascending'): string {
  const entries = [...counts].sort(order === 'ascending' ? ([a], [b]) => a - b : ([, a], [, b]) => b - a);
  const listed = entries.slice(0, MAX_LISTED).map(([value, count]) => `${format(value)} (${count} ${count === 1 ? 'pixel' : 'pixels'})`);
  return entries.length > MAX_LISTED ? `${listed.join(', ')}, …` : listed.join(', ');
}

function countsDetail(
  counts: Map<number, number>,
  format: (value: number) => number | string = (v) => v,
): Array<{ value: number | string; pixels: number }> {
  return [...counts].map(([value, pixels]) => ({ value: format(value), pixels }));
}

function parseHexColour(hex: string): number {
  const match = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!match) throw new AppError('invalid_input', `class colour '${hex}' is not of the form #rrggbb`, { color: hex });
  return parseInt(match[1], 16);
}

function toHexColour(packed: number): string {
  return `#${packed.toString(16).padStart(6, '0')}`;
}
