import { z } from 'zod';
import { choiceReport } from './choice-report.js';
import { ClassDef, FileProblem, SafeName } from './schemas.js';
import { InputSizing } from './training.js';

/** Inference shapes shared by the engine, the CLI and the renderer (batch segmentation, predictions, models). */

export const ExecutionProviderName = z.enum(['cuda', 'dml', 'coreml', 'cpu']);
export type ExecutionProviderName = z.infer<typeof ExecutionProviderName>;

/** Which onnxruntime execution provider runs a model, and why each better one was not used. */
export const ProviderReport = choiceReport(ExecutionProviderName);
export type ProviderReport = z.infer<typeof ProviderReport>;

/**
 * How a model expects its input intensities, after the documented 8/16-bit rule maps them to [0, 1]:
 * `unit` as they are (U-Net Studio and the reference PyTorch tools), `imagenet` (x - mean) / std per
 * RGB channel, `symmetric` 2x - 1, `raw255` x * 255.
 */
export const Normalisation = z.enum(['unit', 'imagenet', 'symmetric', 'raw255']);
export type Normalisation = z.infer<typeof Normalisation>;

/**
 * How images are brought to the model's size and its output back: `studio` as U-Net Studio trains
 * (sizes rounded, bilinear, probabilities up-sampled); `reference` as the reference PyTorch U-Net's
 * predict.py (sizes truncated, Pillow's bicubic with antialiasing, logits up-sampled bilinearly and only
 * then turned into probabilities), for models trained there.
 */
export const ResizeRule = z.enum(['studio', 'reference']);
export type ResizeRule = z.infer<typeof ResizeRule>;

/** What is known about an ONNX segmentation model (from its metadata, a sidecar file or the user). */
export const ModelDescription = z.object({
  name: z.string(),
  file: z.string(),
  /** `studio` = exported by U-Net Studio (metadata present); `external` = imported from elsewhere. */
  source: z.enum(['studio', 'external']),
  runId: z.string().nullable(),
  inputName: z.string(),
  /** Output with the logits (NCHW: 1 channel = sigmoid, K channels = softmax). */
  outputName: z.string(),
  inputChannels: z.union([z.literal(1), z.literal(3)]),
  outputChannels: z.number().int().min(1).max(255),
  /** Classes including background (2 for a one-channel binary model). */
  classes: z.array(ClassDef).min(2),
  normalisation: Normalisation,
  sizing: InputSizing,
  resize: ResizeRule,
  /** Input size the graph requires, or null when height and width are dynamic. */
  fixedSize: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).nullable(),
  /**
   * Dynamic sizes must be multiples of this (16 for U-Net Studio's models, 1 for a model that takes any
   * size); inputs are padded with zeros at the bottom and right up to it, and no further.
   */
  sizeMultiple: z.number().int().min(1).max(1024),
});
export type ModelDescription = z.infer<typeof ModelDescription>;

export const Connectivity = z.union([z.literal(4), z.literal(8)]);

/** How images are segmented; shared by batch jobs and project predictions. */
export const SegmentSettings = z.object({
  /** Foreground threshold on the sigmoid probability (binary models). */
  threshold: z.number().min(0).max(1).default(0.5),
  /** Overrides the model's sizing with this resize factor (the reference tool's --scale). */
  scale: z.number().gt(0).max(1).optional(),
  /** Overrides the model's resize rule. */
  resize: ResizeRule.optional(),
  /** Tile size in model pixels (a multiple of 16) and the overlap between neighbouring tiles. */
  tile: z.number().int().min(16).max(4096).multipleOf(16).default(512),
  overlap: z.number().int().min(0).max(2048).default(64),
  /** Fill background holes enclosed by one object. */
  fillHoles: z.boolean().default(false),
  /** Remove objects smaller than this many pixels (0 = keep all). */
  minObjectPixels: z.number().int().min(0).default(0),
  /** Pixel connectivity of objects (holes use the other one). */
  connectivity: Connectivity.default(8),
  /** Test-time augmentation: average the probabilities over the eight flips and quarter turns (8x the inference). */
  tta: z.boolean().default(false),
});
export type SegmentSettings = z.output<typeof SegmentSettings>;

/** Shard `index` (1..count) of a batch split over `count` independent jobs. */
export const Shard = z
  .object({ index: z.number().int().min(1), count: z.number().int().min(1).max(100_000) })
  .refine((shard) => shard.index <= shard.count, { message: 'the shard number must be from 1 to the number of shards', path: ['index'] });
export type Shard = z.infer<typeof Shard>;

export const SegmentRequest = SegmentSettings.extend({
  /** An .onnx file, a project folder (its newest run's best model) or `project:runId`. */
  model: z.string().min(1),
  /** Image files and/or folders. */
  inputs: z.array(z.string().min(1)).min(1),
  output: z.string().min(1),
  recursive: z.boolean().default(false),
  /** Only files whose path relative to their input folder (or their name) matches, e.g. `*.tif`. */
  glob: z.string().min(1).optional(),
  overwrite: z.boolean().default(false),
  overlay: z.boolean().default(false),
  overlayOpacity: z.number().min(0).max(1).default(0.5),
  /** Also write one 16-bit probability PNG per class. */
  probabilities: z.boolean().default(false),
  /** For an .onnx file that does not say: its foreground class names and its input normalisation. */
  classes: z.array(z.string().trim().min(1).max(64)).min(1).optional(),
  normalisation: Normalisation.optional(),
  /** Only this shard's images (see summary-shards.ts); its summary goes to summary-I-of-N.csv. */
  shard: Shard.optional(),
});
export type SegmentRequest = z.output<typeof SegmentRequest>;

export const SegmentedFile = z.object({
  file: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  /** Share of the image's pixels per class id (index = class id). */
  fractions: z.array(z.number()),
  /** Mean over pixels of the winning class's probability. */
  meanConfidence: z.number(),
  seconds: z.number(),
  outputs: z.array(z.string()),
});
export type SegmentedFile = z.infer<typeof SegmentedFile>;

export const SegmentReport = z.object({
  output: z.string(),
  model: ModelDescription,
  provider: ProviderReport,
  /** Files segmented in this run. */
  segmented: z.array(SegmentedFile),
  /** Files whose outputs were already there (resume), left as they are. */
  kept: z.array(z.string()),
  skipped: z.array(FileProblem),
  /** summary.csv, or this shard's summary-I-of-N.csv. */
  summaryCsv: z.string(),
  durationMs: z.number(),
  /** Unfinished temporary files of an earlier, killed run found in the output folders and removed. */
  leftoversRemoved: z.number().int().default(0),
});
export type SegmentReport = z.infer<typeof SegmentReport>;

export const PredictionsRequest = SegmentSettings.extend({
  project: z.string().min(1),
  /** The run whose best model predicts (default: the newest run with a model). */
  runId: z.string().min(1).optional(),
  /** Or an imported model of the project, by name (models/<name>.onnx). */
  model: z.string().min(1).optional(),
});
export type PredictionsRequest = z.output<typeof PredictionsRequest>;

export const PredictionsReport = z.object({
  model: z.string(),
  provider: ProviderReport,
  predicted: z.number().int(),
  /** Images left alone because a person labelled them. */
  humanLabelled: z.number().int(),
  skipped: z.array(FileProblem),
  durationMs: z.number(),
});
export type PredictionsReport = z.infer<typeof PredictionsReport>;

export const ImportModelRequest = z.object({
  project: z.string().min(1),
  file: z.string().min(1),
  /** Foreground class names when the model does not say (background is added as class 0). */
  classes: z.array(z.string().trim().min(1).max(64)).min(1).optional(),
  normalisation: Normalisation.optional(),
  /** How images are sized for the model (default: its metadata, else its fixed size, else as they are). */
  sizing: InputSizing.optional(),
  /** How images are resized for it (default: `studio`). */
  resize: ResizeRule.optional(),
  /** Name in the project's models/ folder (default: the file's name). */
  name: SafeName.optional(),
});
export type ImportModelRequest = z.output<typeof ImportModelRequest>;
