import * as tf from '@tensorflow/tfjs';
import type { ImageRegion } from '../contract/live.js';
import { SegmentSettings } from '../contract/segmentation.js';
import type { TrainConfig } from '../contract/training.js';
import type { RasterImage } from '../imaging/read-image.js';
import { segmentImage } from '../inference/segment-image.js';
import { buildUnet } from '../engine/model/build-unet.js';
import { layersTileSession } from '../engine/training/layers-tile-session.js';
import { type LossOptions } from '../engine/training/loss.js';
import { createOptimizer, type SteppableOptimizer } from '../engine/training/optimizer.js';
import { trainStep } from '../engine/training/train-step.js';
import { trainedModel } from '../engine/training/validate.js';
import type { PaintedPixels } from './painted-pixels.js';

/** Prediction as `segment` does it by default (tiles, blending, threshold), without clean-up. */
const PREDICTION = SegmentSettings.parse({});
/** Pixels of context segmented around a part of an image (half the live patch's side). */
const CONTEXT = 32;

/**
 * The learning rate starts at the configured one whenever the painting changes (new strokes are
 * learnt fast) and halves every this many steps after, down to FLOOR of it: the model settles, so
 * the overlay stops flickering once the user has stopped painting.
 */
const HALF_LIFE_STEPS = 60;
const LEARNING_RATE_FLOOR = 0.1;

export function liveLearningRate(base: number, stepsSinceChange: number): number {
  return base * Math.max(LEARNING_RATE_FLOOR, 0.5 ** (stepsSinceChange / HALF_LIFE_STEPS));
}

/**
 * The model of a live session: a small U-Net (the run's configuration) and its optimizer, stepped
 * on batches of patches around painted pixels, and asked for predictions between steps. Each step
 * and prediction releases every tensor it makes (the count stays flat).
 */
export class LiveTrainer {
  readonly model: tf.LayersModel;
  private readonly optimizer: SteppableOptimizer;
  private readonly session;
  private seenChanges = -1;
  private stepsSinceChange = 0;
  steps = 0;
  lastLoss: number | null = null;

  constructor(
    readonly config: TrainConfig,
    private readonly batchSize: number,
    private readonly patch: number,
  ) {
    this.model = buildUnet(config.model, config.settings.seed);
    this.optimizer = createOptimizer(config.settings);
    this.session = layersTileSession(this.model);
  }

  /** One optimisation step on fresh patches; false while nothing is painted. */
  async step(painted: PaintedPixels): Promise<boolean> {
    const batch = painted.batch(this.batchSize, this.patch);
    if (!batch) return false;
    if (painted.changes !== this.seenChanges) [this.seenChanges, this.stepsSinceChange] = [painted.changes, 0];
    const { clipNorm, learningRate } = this.config.settings;
    const { classes } = this.config.model;
    const loss: LossOptions = { classes, classWeights: this.config.settings.classWeights ?? painted.classWeights(classes) };
    this.lastLoss = await trainStep(this.model, this.optimizer, batch, loss, clipNorm, liveLearningRate(learningRate, this.stepsSinceChange));
    this.steps += 1;
    this.stepsSinceChange += 1;
    return true;
  }

  /**
   * The model's labels for one part of an image, written into `labels` (the whole image's). The part
   * is segmented with CONTEXT pixels around it, so its edges see what lies beyond them.
   */
  async predictRegion(raster: RasterImage, region: ImageRegion, labels: Uint8Array): Promise<void> {
    const x = Math.max(0, region.x - CONTEXT);
    const y = Math.max(0, region.y - CONTEXT);
    const around = { x, y, width: Math.min(raster.width, region.x + region.width + CONTEXT) - x, height: Math.min(raster.height, region.y + region.height + CONTEXT) - y };
    const { map } = await segmentImage(this.session, trainedModel(this.config), raster, { settings: PREDICTION, region: around });
    for (let row = 0; row < region.height; row++) {
      const from = (region.y - y + row) * around.width + (region.x - x);
      labels.set(map.labels.subarray(from, from + region.width), (region.y + row) * raster.width + region.x);
    }
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.optimizer.dispose();
  }
}
