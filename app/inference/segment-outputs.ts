import type { ClassDef } from '../contract/schemas.js';
import type { LabelMap } from '../masks/label-map.js';
import type { ImageSource } from './image-source.js';
import { PngRowWriter } from './png-row-writer.js';

/** The files one segmented image gives, beside each other: `<stem>_labels.png` and friends. */
export interface OutputFiles {
  /** 8-bit grey label map: pixel value = class id (like the project's masks). */
  labels: string;
  /** RGB, each pixel in its class colour. */
  colour: string;
  /** RGB, the image with the classes' colours blended over it (background left as it is). */
  overlay: string | null;
  /** 16-bit grey per class: probability x 65535. */
  probabilities: string[];
}

export function outputFilesFor(base: string, classes: readonly ClassDef[], options: { overlay: boolean; probabilities: boolean }): OutputFiles {
  return {
    labels: `${base}_labels.png`,
    colour: `${base}_colour.png`,
    overlay: options.overlay ? `${base}_overlay.png` : null,
    probabilities: options.probabilities ? classes.map((entry) => `${base}_prob-${entry.name.replace(/[^\w.-]+/g, '_')}.png`) : [],
  };
}

export function allOutputs(files: OutputFiles): string[] {
  return [files.labels, files.colour, ...(files.overlay ? [files.overlay] : []), ...files.probabilities];
}

/** Opens one 16-bit writer per class; feed it planar probability rows. */
export async function probabilityWriters(files: readonly string[], width: number, height: number): Promise<{ writeRow(y: number, perClass: Float32Array): Promise<void>; commit(): Promise<void>; abort(): Promise<void> }> {
  const writers = await Promise.all(files.map((file) => PngRowWriter.create(file, { width, height, colourType: 0, bitDepth: 16, filter: 'up' })));
  return {
    async writeRow(_y, perClass) {
      await Promise.all(
        writers.map((writer, c) => writer.writeRow(Uint16Array.from(perClass.subarray(c * width, (c + 1) * width), (p) => Math.round(Math.min(1, Math.max(0, p)) * 65535)))),
      );
    },
    commit: async () => {
      await Promise.all(writers.map((writer) => writer.commit()));
    },
    abort: async () => {
      await Promise.all(writers.map((writer) => writer.abort()));
    },
  };
}

/**
 * Writes the label map, the colour mask and (optionally) the overlay row by row from the label map,
 * each file appearing whole or not at all.
 */
export async function writeLabelOutputs(map: LabelMap, classes: readonly ClassDef[], files: OutputFiles, source: Pick<ImageSource, 'displayRow'>, opacity: number, signal?: AbortSignal): Promise<void> {
  const { width, height, labels } = map;
  const palette = new Uint8Array(256 * 3);
  for (const entry of classes) palette.set([1, 3, 5].map((at) => parseInt(entry.color.slice(at, at + 2), 16)), entry.id * 3);
  const writers = [
    await PngRowWriter.create(files.labels, { width, height, colourType: 0, bitDepth: 8, filter: 'none' }),
    await PngRowWriter.create(files.colour, { width, height, colourType: 2, bitDepth: 8, filter: 'none' }),
    ...(files.overlay ? [await PngRowWriter.create(files.overlay, { width, height, colourType: 2, bitDepth: 8, filter: 'up' })] : []),
  ];
  // One colour row for the whole image: a writer copies a row before writeRow returns.
  const colour = new Uint8Array(width * 3);
  try {
    for (let y = 0; y < height; y++) {
      if (y % 64 === 0) signal?.throwIfAborted();
      const row = labels.subarray(y * width, (y + 1) * width);
      for (let x = 0, at = 0; x < width; x++) {
        const entry = row[x]! * 3;
        colour[at++] = palette[entry]!;
        colour[at++] = palette[entry + 1]!;
        colour[at++] = palette[entry + 2]!;
      }
      const pending = [writers[0]!.writeRow(row), writers[1]!.writeRow(colour)];
      if (files.overlay) {
        const overlay = source.displayRow(y);
        for (let x = 0; x < width; x++) {
          if (row[x] === 0) continue;
          for (let c = 0; c < 3; c++) overlay[3 * x + c] = Math.round(overlay[3 * x + c]! * (1 - opacity) + colour[3 * x + c]! * opacity);
        }
        pending.push(writers[2]!.writeRow(overlay));
      }
      await Promise.all(pending);
    }
    await Promise.all(writers.map((writer) => writer.commit()));
  } catch (err) {
    await Promise.all(writers.map((writer) => writer.abort()));
    throw err;
  }
}

/** Share of pixels per class id (index = class id, up to the largest class). */
export function classFractions(map: LabelMap, classCount: number): number[] {
  // Every byte value has a slot, so the count needs no bounds test; classes above classCount are dropped.
  const counts = new Uint32Array(256);
  const { labels } = map;
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  return Array.from(counts.subarray(0, Math.max(classCount, 1)), (count) => count / labels.length);
}

/** Writes just the 8-bit label map (the project's mask format), row by row and atomically. */
export async function writeLabelPng(map: LabelMap, file: string): Promise<void> {
  const writer = await PngRowWriter.create(file, { width: map.width, height: map.height, colourType: 0, bitDepth: 8, filter: 'none' });
  try {
    for (let y = 0; y < map.height; y++) await writer.writeRow(map.labels.subarray(y * map.width, (y + 1) * map.width));
    await writer.commit();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
