import * as tf from '@tensorflow/tfjs';
import type { ClassDef } from '../../contract/schemas.js';
import { SegmentSettings } from '../../contract/segmentation.js';
import type { TrainConfig } from '../../contract/training.js';
import { segmentImage, type SegmentableModel } from '../../inference/segment-image.js';
import type { LabelMap } from '../../masks/label-map.js';
import { readLabelledImage, type SampleFile } from '../data/load-samples.js';
import { ConfusionMatrix } from '../metrics/confusion-matrix.js';
import { outputChannels, UNET_SIZE_MULTIPLE } from '../model/build-unet.js';
import { layersTileSession } from './layers-tile-session.js';
import { addLossSums, type LossOptions, type LossSums, lossOfSums, segmentationLossSums } from './loss.js';
import { type ValidationPicture, validationPicture } from './validation-samples.js';

export interface ValidationResult {
  loss: number;
  matrix: ConfusionMatrix;
  pictures: ValidationPicture[];
}

export interface ValidationOptions {
  config: TrainConfig;
  classes: readonly ClassDef[];
  /** The project's pixel limit for decoding. */
  maxPixels: number;
  loss: LossOptions;
  pictureCount: number;
  signal?: AbortSignal;
}

/** Validation segments as `segment` does by default: its tile size, overlap and threshold, no clean-up. */
const SEGMENTATION = SegmentSettings.parse({});

/**
 * Scores the model on the validation images as users will meet it: each image is segmented whole,
 * with the tiling, blending and resampling of the `segment` command, and its prediction compared
 * with the mask at the mask's own size. Images are read one at a time (the next one decodes while
 * the current one is segmented), so memory does not grow with their number. The loss is the
 * training loss of the blended probabilities at the truth's size, averaged over images. Results are
 * read asynchronously (the webgpu backend has no synchronous reads in Node).
 */
export async function validate(model: tf.LayersModel, files: readonly SampleFile[], options: ValidationOptions): Promise<ValidationResult> {
  const session = layersTileSession(model);
  const description = trainedModel(options.config);
  const matrix = new ConfusionMatrix(options.loss.classes);
  const pictures: ValidationPicture[] = [];
  const read = (index: number) => {
    const reading = readLabelledImage(files[index]!, options.maxPixels);
    reading.catch(() => undefined); // a failure is reported when the image's turn comes
    return reading;
  };
  let lossSum = 0;
  let next = files.length > 0 ? read(0) : null;
  for (let index = 0; index < files.length; index++) {
    options.signal?.throwIfAborted();
    const { raster, mask } = await next!;
    next = index + 1 < files.length ? read(index + 1) : null;
    const loss = new StreamedLoss(mask, description.outputChannels, options.loss);
    const { map } = await segmentImage(session, description, raster, {
      settings: SEGMENTATION,
      onProbabilityRow: (y, perClass) => loss.addRow(y, perClass),
      signal: options.signal,
    });
    lossSum += await loss.value();
    matrix.add(mask.labels, map.labels);
    if (pictures.length < options.pictureCount) pictures.push(validationPicture(raster, mask, map));
  }
  return { loss: files.length ? lossSum / files.length : Number.NaN, matrix, pictures };
}

/** The model in training, described as `segment` describes an exported one. */
export function trainedModel(config: TrainConfig): SegmentableModel {
  return {
    inputChannels: config.model.inputChannels,
    outputChannels: outputChannels(config.model),
    outputName: 'logits',
    normalisation: 'unit',
    sizing: config.settings.sizing,
    resize: 'studio',
    fixedSize: null,
    sizeMultiple: UNET_SIZE_MULTIPLE,
  };
}

/** Pixels of the truth scored per loss tensor. */
const LOSS_PIECE_PIXELS = 1 << 16;
/** Probabilities are clipped this far from 0 and 1 before they are turned back into logits. */
const PROBABILITY_EPSILON = 1e-7;

/**
 * The loss of one image from its probability rows at the truth's size, added up piece by piece
 * (a few rows per tensor), so a large image never becomes one tensor.
 */
class StreamedLoss {
  private sums: LossSums | null = null;
  private readonly pieceRows: number;
  /** The rows of the current piece, NHWC: one channel per model output. */
  private readonly piece: Float32Array;
  private rows = 0;

  constructor(
    private readonly truth: LabelMap,
    private readonly channels: number,
    private readonly options: LossOptions,
  ) {
    this.pieceRows = Math.max(1, Math.floor(LOSS_PIECE_PIXELS / truth.width));
    this.piece = new Float32Array(this.pieceRows * truth.width * channels);
  }

  /** Row `y` of planar per-class probabilities (background included, as segmentImage gives them). */
  async addRow(y: number, perClass: Float32Array): Promise<void> {
    const { width } = this.truth;
    const { channels } = this;
    // A binary model's one output is the foreground: the last plane.
    const firstPlane = perClass.length / width - channels;
    const offset = this.rows * width * channels;
    for (let c = 0; c < channels; c++) {
      const plane = (firstPlane + c) * width;
      for (let x = 0; x < width; x++) this.piece[offset + x * channels + c] = perClass[plane + x]!;
    }
    this.rows += 1;
    if (this.rows === this.pieceRows || y === this.truth.height - 1) await this.addPiece(y + 1 - this.rows);
  }

  value(): Promise<number> {
    return lossOfSums(this.sums!);
  }

  private async addPiece(top: number): Promise<void> {
    const { width } = this.truth;
    const shape: [number, number, number] = [1, this.rows, width];
    const [logits, labels] = tf.tidy(() => {
      const probabilities = tf.clipByValue(tf.tensor4d(this.piece.subarray(0, this.rows * width * this.channels), [...shape, this.channels]), PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
      // Logits that give these probabilities back: log-odds for a sigmoid, log p for a softmax.
      const fromProbabilities = this.channels === 1 ? tf.sub(tf.log(probabilities), tf.log1p(tf.neg(probabilities))) : tf.log(probabilities);
      return [fromProbabilities as tf.Tensor4D, tf.tensor3d(Int32Array.from(this.truth.labels.subarray(top * width, (top + this.rows) * width)), shape, 'int32')];
    });
    try {
      const sums = await segmentationLossSums(logits, labels, this.options);
      this.sums = this.sums ? addLossSums(this.sums, sums) : sums;
    } finally {
      tf.dispose([logits, labels]);
    }
    this.rows = 0;
  }
}
