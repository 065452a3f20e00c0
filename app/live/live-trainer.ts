import * as tf from '@tensorflow/tfjs';
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

/**
 * The model of a live session: a small U-Net (the run's configuration) and its optimizer, stepped
 * on batches of patches around painted pixels, and asked for predictions between steps. Each step
 * and prediction releases every tensor it makes (the count stays flat).
 */
export class LiveTrainer {
  readonly model: tf.LayersModel;
  private readonly optimizer: SteppableOptimizer;
  private readonly loss: LossOptions;
  private readonly session;
  steps = 0;
  lastLoss: number | null = null;

  constructor(
    readonly config: TrainConfig,
    private readonly batchSize: number,
    private readonly patch: number,
  ) {
    this.model = buildUnet(config.model, config.settings.seed);
    this.optimizer = createOptimizer(config.settings);
    this.loss = { classes: config.model.classes, classWeights: config.settings.classWeights };
    this.session = layersTileSession(this.model);
  }

  /** One optimisation step on fresh patches; false while nothing is painted. */
  async step(painted: PaintedPixels): Promise<boolean> {
    const batch = painted.batch(this.batchSize, this.patch);
    if (!batch) return false;
    const { clipNorm, learningRate } = this.config.settings;
    this.lastLoss = await trainStep(this.model, this.optimizer, batch, this.loss, clipNorm, learningRate);
    this.steps += 1;
    return true;
  }

  /** The model's labels for a whole image, at the image's size. */
  async predict(raster: RasterImage): Promise<Uint8Array> {
    const { map } = await segmentImage(this.session, trainedModel(this.config), raster, { settings: PREDICTION });
    return map.labels;
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.optimizer.dispose();
  }
}
