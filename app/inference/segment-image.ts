import type { ModelDescription, ResizeRule, SegmentSettings } from '../contract/segmentation.js';
import type { InputSizing } from '../contract/training.js';
import type { RasterImage } from '../imaging/read-image.js';
import type { LabelMap } from '../masks/label-map.js';
import { cleanUpLabels } from './clean-up.js';
import { imageRegionSource, imageSource } from './image-source.js';
import { resampleRows } from './row-resampler.js';
import type { TileSession } from './session-thread.js';
import { testTimeAugmented } from './test-time-augmentation.js';
import { inferTiled, toProbabilities } from './tiled-inference.js';

export interface SegmentedImage {
  map: LabelMap;
  /** Mean over pixels of the winning class's probability. */
  meanConfidence: number;
}

export interface SegmentImageOptions {
  settings: Pick<SegmentSettings, 'threshold' | 'tile' | 'overlap' | 'fillHoles' | 'minObjectPixels' | 'connectivity' | 'scale' | 'resize' | 'tta'>;
  /** Receives each image row's per-class probabilities (planar, one channel per class), e.g. to write maps. */
  onProbabilityRow?(y: number, perClass: Float32Array): Promise<void>;
  signal?: AbortSignal;
  /** Segment only this part of the image (image pixels), normalised as the whole image is; the map has its size. */
  region?: { x: number; y: number; width: number; height: number };
}

/** What segmenting needs to know of a model (an ONNX session's description, or the model in training). */
export type SegmentableModel = Pick<ModelDescription, 'inputChannels' | 'outputChannels' | 'outputName' | 'normalisation' | 'sizing' | 'resize' | 'fixedSize' | 'sizeMultiple'>;

/** The sizing the model is run at: the model's own, or the caller's resize factor. */
export function effectiveSizing(model: Pick<ModelDescription, 'sizing'>, scale: number | undefined): InputSizing {
  return scale === undefined ? model.sizing : { mode: 'scale', scale };
}

/** The resize rule the model is run with: the model's own, or the caller's. */
export function effectiveResize(model: Pick<ModelDescription, 'resize'>, resize: ResizeRule | undefined): ResizeRule {
  return resize ?? model.resize;
}

/**
 * Segments one decoded image: tiled inference at the model's resolution, probabilities brought back
 * to the image size row by row (the reference rule brings back logits and activates them after),
 * then threshold (binary: foreground probability > threshold) or argmax, and the optional clean-up.
 * With `tta` every tile's probabilities are the mean over its flips and quarter turns.
 * Only the label map (one byte per pixel) is held for the whole image.
 */
export async function segmentImage(session: TileSession, model: SegmentableModel, raster: RasterImage, options: SegmentImageOptions): Promise<SegmentedImage> {
  const { settings } = options;
  const rule = effectiveResize(model, settings.resize);
  const whole = imageSource(raster, model, effectiveSizing(model, settings.scale), rule);
  const source = options.region ? imageRegionSource(whole, options.region) : whole;
  const { width, height } = source;
  const labels = new Uint8Array(width * height);
  const channels = model.outputChannels;
  const binary = channels === 1;
  let confidenceSum = 0;
  const threshold = settings.threshold;

  // Sums start local to each row: a closure variable updated per pixel cost more than the decision.
  const decideBinary = (y: number, row: Float32Array): void | Promise<void> => {
    const offset = y * width;
    let confidence = 0;
    for (let x = 0; x < width; x++) {
      const p = row[x]!;
      labels[offset + x] = p > threshold ? 1 : 0;
      confidence += p > 0.5 ? p : 1 - p;
    }
    confidenceSum += confidence;
    return options.onProbabilityRow?.(y, withBackground(row));
  };
  const decideArgmax = (y: number, row: Float32Array): void | Promise<void> => {
    const offset = y * width;
    let confidence = 0;
    for (let x = 0; x < width; x++) {
      let best = 0;
      for (let c = 1; c < channels; c++) if (row[c * width + x]! > row[best * width + x]!) best = c;
      labels[offset + x] = best;
      confidence += row[best * width + x]!;
    }
    confidenceSum += confidence;
    return options.onProbabilityRow?.(y, row);
  };
  const decide = binary ? decideBinary : decideArgmax;
  const upsampleLogits = rule === 'reference';
  const activated = upsampleLogits ? (y: number, row: Float32Array) => decide(y, toProbabilities(row, 1, channels, width)) : decide;
  const sink = resampleRows({ width: source.sizedWidth, height: source.sizedHeight }, { width, height }, channels, activated);
  const runner = settings.tta ? testTimeAugmented(session, { fixedInputShape: model.fixedSize !== null }) : session;
  await inferTiled(runner, model, source, { ...settings, logits: upsampleLogits }, sink, options.signal);

  const map = { width, height, labels };
  if (settings.fillHoles || settings.minObjectPixels > 0) cleanUpLabels(map, settings);
  return { map, meanConfidence: confidenceSum / (width * height) };
}

/** A binary model's foreground row as [background, foreground] planes. */
function withBackground(foreground: Float32Array): Float32Array {
  const both = new Float32Array(2 * foreground.length);
  for (let x = 0; x < foreground.length; x++) both[x] = 1 - foreground[x]!;
  both.set(foreground, foreground.length);
  return both;
}
