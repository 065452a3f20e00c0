import { throwIfCancelled } from '../contract/errors.js';
import type { ModelDescription } from '../contract/segmentation.js';
import type { ImageSource } from './image-source.js';
import type { TileSession } from './session-thread.js';
import { blendRamp, planAxis } from './tile-plan.js';

/** What tiling needs to know of a model. */
export type TiledModel = Pick<ModelDescription, 'fixedSize' | 'outputChannels' | 'outputName' | 'sizeMultiple'>;

export interface TileSettings {
  tile: number;
  overlap: number;
  /** Tiles per session.run. */
  batch?: number;
  /** Blend and hand on logits instead of probabilities (the reference rule activates after up-sampling). */
  logits?: boolean;
}

/**
 * Receives finished rows of class probabilities at model resolution, top to bottom. `row` is planar:
 * channel c of pixel x at c * width + x, with one channel (the foreground) for binary models and one
 * per class otherwise.
 */
export type ProbabilityRowSink = (y: number, row: Float32Array) => void | Promise<void>;

/**
 * Segments an image tile by tile: overlapping tiles of one horizontal band go through one
 * session.run per group of at most `batch` tiles, groups side by side on a session that runs
 * several at once, their probabilities are blended with raised-cosine weights into a
 * band-high accumulator, and rows no later band touches are handed to `sink` and dropped. Memory
 * stays at a few bands whatever the image height.
 */
export async function inferTiled(session: TileSession, model: TiledModel, source: ImageSource, settings: TileSettings, sink: ProbabilityRowSink, signal?: AbortSignal): Promise<void> {
  const width = source.sizedWidth;
  const height = source.sizedHeight;
  const xs = planAxis(width, settings.tile, settings.overlap, model.fixedSize?.width ?? null, model.sizeMultiple);
  const ys = planAxis(height, settings.tile, settings.overlap, model.fixedSize?.height ?? null, model.sizeMultiple);
  const channels = model.outputChannels; // 1 (the foreground) for a binary model, K for K classes
  const tileValues = async (xStarts: readonly number[], y0: number): Promise<Float32Array> => {
    const logits = await runTiles(session, model, source, xStarts, y0, xs.extent, ys.extent);
    return settings.logits ? logits : toProbabilities(logits, xStarts.length, channels, xs.extent * ys.extent);
  };
  if (xs.starts.length === 1 && ys.starts.length === 1) {
    throwIfCancelled(signal);
    await handOnSingleTile(await tileValues([0], 0), channels, source, xs.extent * ys.extent, xs.extent, sink);
    return;
  }
  const batch = Math.max(1, settings.batch ?? 4);
  const bandRows = ys.extent;
  const sums = new Float32Array(channels * bandRows * width);
  const weights = new Float32Array(bandRows * width);
  const rampsX = xs.starts.map((_start, i) => blendRamp(xs.extent, xs.overlap, i > 0, i < xs.starts.length - 1));
  let top = 0; // image row held in accumulator row 0
  const tilePixels = xs.extent * ys.extent;

  /** Adds tile k of a run's probabilities, placed at (x0, y0), to the accumulator. */
  const addTile = (probabilities: Float32Array, k: number, x0: number, y0: number, rampX: Float32Array, rampY: Float32Array): void => {
    const rows = Math.min(ys.extent, height - y0);
    const cols = Math.min(xs.extent, width - x0);
    for (let ty = 0; ty < rows; ty++) {
      const accRow = y0 + ty - top;
      for (let tx = 0; tx < cols; tx++) {
        const w = rampY[ty]! * rampX[tx]!;
        const at = accRow * width + x0 + tx;
        weights[at] = weights[at]! + w;
        for (let c = 0; c < channels; c++) {
          const value = probabilities[(k * channels + c) * tilePixels + ty * xs.extent + tx]!;
          sums[c * bandRows * width + at] = sums[c * bandRows * width + at]! + w * value;
        }
      }
    }
  };

  // Groups of tiles (indices into xs.starts) run side by side, as many at once as the session runs
  // in parallel; at least that many groups per band, so that a narrow image still keeps every
  // inference thread busy.
  const groupSize = Math.min(batch, Math.ceil(xs.starts.length / session.parallelism));
  const groups = Array.from({ length: Math.ceil(xs.starts.length / groupSize) }, (_, g) =>
    xs.starts.slice(g * groupSize, (g + 1) * groupSize).map((_start, k) => g * groupSize + k),
  );

  for (let band = 0; band < ys.starts.length; band++) {
    const y0 = ys.starts[band]!;
    const rampY = blendRamp(ys.extent, ys.overlap, band > 0, band < ys.starts.length - 1);
    for (let wave = 0; wave < groups.length; wave += session.parallelism) {
      throwIfCancelled(signal);
      const waveGroups = groups.slice(wave, wave + session.parallelism);
      const results = await Promise.all(waveGroups.map((group) => tileValues(group.map((i) => xs.starts[i]!), y0)));
      waveGroups.forEach((group, g) => group.forEach((i, k) => addTile(results[g]!, k, xs.starts[i]!, y0, rampsX[i]!, rampY)));
    }
    // Rows above the next band's top are final.
    const finishedUntil = band + 1 < ys.starts.length ? ys.starts[band + 1]! : height;
    for (let y = top; y < finishedUntil; y++) {
      const accRow = y - top;
      const row = new Float32Array(channels * width);
      for (let x = 0; x < width; x++) {
        const w = weights[accRow * width + x]!;
        for (let c = 0; c < channels; c++) row[c * width + x] = sums[c * bandRows * width + accRow * width + x]! / w;
      }
      const pending = sink(y, row);
      if (pending) await pending;
    }
    const shift = finishedUntil - top;
    if (shift > 0 && finishedUntil < height) {
      weights.copyWithin(0, shift * width);
      weights.fill(0, (bandRows - shift) * width);
      for (let c = 0; c < channels; c++) {
        const plane = sums.subarray(c * bandRows * width, (c + 1) * bandRows * width);
        plane.copyWithin(0, shift * width);
        plane.fill(0, (bandRows - shift) * width);
      }
    }
    top = finishedUntil;
  }
}

/** An image within one tile: nothing to blend, so its rows come straight from the tile. */
async function handOnSingleTile(probabilities: Float32Array, channels: number, source: ImageSource, plane: number, tileWidth: number, sink: ProbabilityRowSink): Promise<void> {
  const { sizedWidth: width, sizedHeight: height } = source;
  for (let y = 0; y < height; y++) {
    // One channel: the row is a view of the tile (the tile array is not reused).
    let row: Float32Array;
    if (channels === 1) {
      row = probabilities.subarray(y * tileWidth, y * tileWidth + width);
    } else {
      row = new Float32Array(channels * width);
      for (let c = 0; c < channels; c++) row.set(probabilities.subarray(c * plane + y * tileWidth, c * plane + y * tileWidth + width), c * width);
    }
    // Most sinks take a row synchronously; awaiting each of thousands of rows cost more than the rows.
    const pending = sink(y, row);
    if (pending) await pending;
  }
}

/** Runs a row of tiles as one batch; returns logits [tile][channel][y][x]. */
async function runTiles(session: TileSession, model: TiledModel, source: ImageSource, xStarts: readonly number[], y0: number, tileWidth: number, tileHeight: number): Promise<Float32Array> {
  const inChannels = source.channels;
  const tilePixels = tileWidth * tileHeight;
  const input = new Float32Array(xStarts.length * inChannels * tilePixels); // zero padding, as in training
  xStarts.forEach((x0, k) => {
    const cols = Math.min(tileWidth, source.sizedWidth - x0);
    const rows = Math.min(tileHeight, source.sizedHeight - y0);
    const region = source.region(x0, y0, cols, rows);
    if (inChannels === 1) {
      for (let y = 0; y < rows; y++) input.set(region.subarray(y * cols, (y + 1) * cols), k * tilePixels + y * tileWidth);
      return;
    }
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) {
        for (let c = 0; c < inChannels; c++) input[(k * inChannels + c) * tilePixels + y * tileWidth + x] = region[(y * cols + x) * inChannels + c]!;
      }
    }
  });
  const logits = await session.run(input, [xStarts.length, inChannels, tileHeight, tileWidth]);
  const expected = [xStarts.length, model.outputChannels, tileHeight, tileWidth];
  if (logits.dims.join() !== expected.join()) {
    throw new Error(`model output "${model.outputName}" has shape [${logits.dims.join(', ')}], expected [${expected.join(', ')}]`);
  }
  return logits.data;
}

/** Sigmoid for one logit, softmax over the channels otherwise; in place. */
export function toProbabilities(logits: Float32Array, tiles: number, channels: number, pixels: number): Float32Array {
  if (channels === 1) {
    for (let i = 0; i < logits.length; i++) logits[i] = 1 / (1 + Math.exp(-logits[i]!));
    return logits;
  }
  for (let k = 0; k < tiles; k++) {
    const base = k * channels * pixels;
    for (let p = 0; p < pixels; p++) {
      let max = -Infinity;
      for (let c = 0; c < channels; c++) max = Math.max(max, logits[base + c * pixels + p]!);
      let sum = 0;
      for (let c = 0; c < channels; c++) {
        const e = Math.exp(logits[base + c * pixels + p]! - max);
        logits[base + c * pixels + p] = e;
        sum += e;
      }
      for (let c = 0; c < channels; c++) logits[base + c * pixels + p] = logits[base + c * pixels + p]! / sum;
    }
  }
  return logits;
}
