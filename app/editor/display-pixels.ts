import { type Colormap, colormapTable, packRgba } from './colormaps.js';
import { type Levels, levelsTable, sameLevels } from './display-levels.js';
import type { Rect } from './rect.js';

/** What the display controls need to know of an image before reading its values. */
export interface SampleFormat {
  channels: 1 | 3;
  /** 255 for 8-bit images, 65535 for 16-bit. */
  maxValue: number;
  /** Limits that show the picture as the app normalises it for training (and as the display image shows it). */
  defaultLevels: Levels;
}

/**
 * An image's stored colour values as the editor reads them: interleaved samples (alpha dropped),
 * 8-bit or 16-bit as stored, so contrast limits work on true values and the cursor readout shows them.
 */
export interface ImageSamples extends SampleFormat {
  width: number;
  height: number;
  data: Uint8Array | Uint16Array;
}

/** An 8-bit image's format: its display image holds its stored values as they are. */
export function eightBitFormat(channels: 1 | 3): SampleFormat {
  return { channels, maxValue: 255, defaultLevels: { low: 0, high: 255, gamma: 1 } };
}

/** How the picture is shown: contrast limits and gamma, a colormap for grey images, channel toggles for RGB. */
export interface DisplaySettings {
  levels: Levels;
  colormap: Colormap;
  /** Red, green and blue shown (RGB images). */
  channels: readonly [boolean, boolean, boolean];
}

export const CHANNEL_NAMES = ['red', 'green', 'blue'] as const;

export function defaultDisplay(levels: Levels): DisplaySettings {
  return { levels, colormap: 'grey', channels: [true, true, true] };
}

/** True when the settings show the picture exactly as its display image does, so no pixels need computing. */
export function showsAsStored(format: SampleFormat, display: DisplaySettings): boolean {
  const allChannels = format.channels === 1 || display.channels.every(Boolean);
  return sameLevels(display.levels, format.defaultLevels) && allChannels && (format.channels === 3 || display.colormap === 'grey');
}

/** The stored values at one pixel (one per colour channel). */
export function samplesAt(samples: ImageSamples, x: number, y: number): number[] {
  const start = (y * samples.width + x) * samples.channels;
  return Array.from(samples.data.subarray(start, start + samples.channels));
}

/** 8-bit samples from RGBA pixels (a decoded display image): grey images keep one channel. */
export function samplesFromRgba(rgba: Uint8ClampedArray, width: number, height: number, channels: 1 | 3): ImageSamples {
  const samples = { width, height, data: new Uint8Array(width * height * channels), ...eightBitFormat(channels) };
  writeSamplesFromRgba(samples, rgba, { x: 0, y: 0, width, height });
  return samples;
}

/**
 * Overwrites the 8-bit samples of `rect` with its RGBA pixels: a big image's full-resolution tile
 * that arrived after the values were read from its downscaled stand-in.
 */
export function writeSamplesFromRgba(samples: ImageSamples, rgba: Uint8ClampedArray, rect: Rect): void {
  const { data, channels } = samples;
  for (let row = 0; row < rect.height; row++) {
    let target = ((rect.y + row) * samples.width + rect.x) * channels;
    for (let i = row * rect.width * 4, end = i + rect.width * 4; i < end; i += 4) {
      for (let c = 0; c < channels; c++) data[target++] = rgba[i + c]!;
    }
  }
}

/**
 * The RGBA pixels shown for the samples (of `rect` only when given: a tile that arrived late):
 * each stored value goes through the contrast limits (one table over the whole 8- or 16-bit
 * range), then a grey image through its colormap, an RGB image with the channels switched off shown black.
 */
export function renderDisplay(samples: ImageSamples, display: DisplaySettings, rect: Rect = { x: 0, y: 0, width: samples.width, height: samples.height }): Uint8ClampedArray<ArrayBuffer> {
  const { channels, data } = samples;
  const out = new Uint8ClampedArray(rect.width * rect.height * 4);
  const pixels = new Uint32Array(out.buffer);
  const levels = levelsTable(display.levels, samples.maxValue);
  // Row by row over the rect; the loops stay separate for grey and RGB (one table lookup per pixel on big images).
  const firstSample = (row: number) => ((rect.y + row) * samples.width + rect.x) * channels;
  if (channels === 1) {
    const colours = colormapTable(display.colormap);
    const table = new Uint32Array(samples.maxValue + 1);
    for (let value = 0; value <= samples.maxValue; value++) table[value] = colours[levels[value]!]!;
    for (let row = 0, i = 0; row < rect.height; row++) {
      for (let s = firstSample(row), end = i + rect.width; i < end; i++, s++) pixels[i] = table[data[s]!]!;
    }
    return out;
  }
  const [red, green, blue] = display.channels.map((on) => (on ? levels : new Uint8ClampedArray(samples.maxValue + 1)));
  for (let row = 0, i = 0; row < rect.height; row++) {
    for (let s = firstSample(row), end = i + rect.width; i < end; i++, s += 3) pixels[i] = packRgba(red![data[s]!]!, green![data[s + 1]!]!, blue![data[s + 2]!]!);
  }
  return out;
}
