import { z } from 'zod';
import { choiceReport } from './choice-report.js';
import { FileProblem } from './schemas.js';

/** Training shapes shared by the engine, the CLI and the renderer's training monitor. */

/** The training backends in the order `auto` tries them: the fastest that works is used. */
export const BackendName = z.enum(['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm']);
export type BackendName = z.infer<typeof BackendName>;
export const BackendChoice = z.enum(['auto', ...BackendName.options]);
export type BackendChoice = z.infer<typeof BackendChoice>;

/** How the CLI's help and the UI's backend field name each choice. */
export const BACKEND_CHOICE_LABELS: Readonly<Record<BackendChoice, string>> = {
  auto: 'Automatic (best available)',
  'tfjs-node-gpu': 'NVIDIA GPU with CUDA (tfjs-node-gpu)',
  webgpu: 'Any GPU through WebGPU (Vulkan, Metal, D3D12)',
  'tfjs-node': 'CPU (tfjs-node)',
  wasm: 'CPU (WebAssembly)',
};

/**
 * The GPU a webgpu run uses, as Dawn describes it, with the limits that bound its memory use.
 * WebGPU tells no device memory size, so `deviceMemoryBytes` is null there.
 */
export const GpuAdapterReport = z.object({
  vendor: z.string(),
  architecture: z.string(),
  device: z.string(),
  description: z.string(),
  /** A CPU emulating a GPU (SwiftShader, llvmpipe, WARP): `auto` skips it, a forced choice uses it. */
  software: z.boolean(),
  /** The largest single GPU buffer, and the largest one a kernel may bind: no tensor can be larger. */
  maxBufferBytes: z.number(),
  maxStorageBindingBytes: z.number(),
  deviceMemoryBytes: z.number().nullable(),
});
export type GpuAdapterReport = z.infer<typeof GpuAdapterReport>;

export const BackendReport = choiceReport(BackendName).extend({
  threads: z.number().int().optional(),
  threadsReason: z.string().optional(),
  /** Data-parallel replicas of the model, one per thread (absent: one model on all the threads). */
  replicas: z.number().int().min(2).optional(),
  adapter: GpuAdapterReport.optional(),
});
export type BackendReport = z.infer<typeof BackendReport>;

export const ModelConfig = z.object({
  /** Channels of the first stage; stages use base, 2, 4, 8 and 16 times that. */
  base: z.union([z.literal(8), z.literal(16), z.literal(32), z.literal(64)]),
  upsampling: z.enum(['transpose', 'bilinear']),
  inputChannels: z.union([z.literal(1), z.literal(3)]),
  /** Number of classes including background; 2 means a binary model with one logit. */
  classes: z.number().int().min(2).max(255),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

export const Augmentation = z.object({
  flips: z.boolean(),
  rotate90: z.boolean(),
  /** Random zoom range, e.g. [0.8, 1.25]; [1, 1] turns it off. */
  scale: z.tuple([z.number().positive(), z.number().positive()]),
  /** Largest small rotation in degrees (0 = off). */
  rotateDegrees: z.number().min(0).max(180),
  /** Largest brightness shift and contrast change (0 = off), on [0,1]-normalised intensities. */
  brightness: z.number().min(0).max(1),
  contrast: z.number().min(0).max(1),
  /** Standard deviation of added gaussian noise (0 = off). */
  noise: z.number().min(0).max(1),
});
export type Augmentation = z.infer<typeof Augmentation>;

export const InputSizing = z.discriminatedUnion('mode', [
  /** Resize by a factor, as the reference tool's --scale. */
  z.object({ mode: z.literal('scale'), scale: z.number().gt(0).max(1) }),
  /** Resize every image to a fixed size. */
  z.object({ mode: z.literal('size'), width: z.number().int().min(16).max(8192), height: z.number().int().min(16).max(8192) }),
]);
export type InputSizing = z.infer<typeof InputSizing>;

export const OptimizerName = z.enum(['adam', 'adamw', 'rmsprop']);
export const ScheduleName = z.enum(['poly', 'plateau', 'constant']);
/** `auto` configures itself from the data and the machine; the others are fixed starting points. */
export const PresetName = z.enum(['auto', 'fast', 'standard', 'paper']);
export type PresetName = z.infer<typeof PresetName>;
export type FixedPresetName = Exclude<PresetName, 'auto'>;

/** The time budget of the auto preset when none is given. */
export const DEFAULT_TIME_BUDGET_SECONDS = 30 * 60;

/** One value the auto preset chose, and why (printed by the CLI, shown by the UI before Start). */
export const PresetChoice = z.object({ setting: z.string(), value: z.string(), reason: z.string() });
export type PresetChoice = z.infer<typeof PresetChoice>;

/** Default bound of the decoded-image cache training keeps between epochs (`cacheMiB`). */
export const DEFAULT_CACHE_MIB = 512;

export const TrainSettings = z.object({
  epochs: z.number().int().min(1).max(10_000),
  batchSize: z.number().int().min(1).max(256),
  learningRate: z.number().positive().max(1),
  optimizer: OptimizerName,
  weightDecay: z.number().min(0).max(1),
  schedule: ScheduleName,
  warmupEpochs: z.number().int().min(0).max(100),
  /** Clip gradients to this global norm (null = no clipping). */
  clipNorm: z.number().positive().nullable(),
  /** Stop after this many epochs without a better validation Dice (0 = never stop early). */
  patience: z.number().int().min(0).max(10_000),
  validationPercent: z.number().min(0).max(90),
  sizing: InputSizing,
  /** Train on random crops of this size (after sizing); null = whole images. */
  patchSize: z.number().int().min(16).max(4096).nullable(),
  augmentation: Augmentation,
  /** Loss weight per class (length = classes), e.g. [1, 2] for thin foreground; null = equal. */
  classWeights: z.array(z.number().positive()).nullable(),
  seed: z.number().int().min(0).max(2 ** 31),
  backend: BackendChoice,
  /**
   * Decoded training images (at training resolution) kept in memory between epochs, in MiB; the
   * rest are read from disk again when their batch comes. 0 = read every image every epoch.
   */
  cacheMiB: z.number().int().min(0).max(1_048_576).default(DEFAULT_CACHE_MIB),
  /** CPU threads training may use; null = every logical core. Fewer leave cores free for other work. */
  threads: z.number().int().min(1).max(1024).nullable().default(null),
  /**
   * Train for as many epochs as fit in this many seconds (null: exactly `epochs`). `epochs` starts
   * as an estimate and is set from the first epoch's measured time.
   */
  timeBudgetSeconds: z.number().min(10).max(30 * 24 * 3600).nullable().default(null),
});
export type TrainSettings = z.infer<typeof TrainSettings>;

export const TrainConfig = z.object({
  preset: PresetName,
  model: ModelConfig,
  settings: TrainSettings,
  /** Run whose best weights start this one (fine-tuning), or null. */
  initialWeightsFrom: z.string().nullable(),
  /** What the auto preset chose and why (empty for the fixed presets). */
  choices: z.array(PresetChoice).default([]),
});
export type TrainConfig = z.infer<typeof TrainConfig>;

export const ClassMetrics = z.object({ classId: z.number().int(), name: z.string(), dice: z.number(), iou: z.number() });

export const EpochRecord = z.object({
  epoch: z.number().int().min(1),
  trainLoss: z.number(),
  valLoss: z.number().nullable(),
  /** Mean Dice over the foreground classes (background excluded). */
  valDice: z.number().nullable(),
  valIou: z.number().nullable(),
  pixelAccuracy: z.number().nullable(),
  perClass: z.array(ClassMetrics),
  learningRate: z.number(),
  imagesPerSecond: z.number(),
  seconds: z.number(),
  numTensors: z.number().int(),
});
export type EpochRecord = z.infer<typeof EpochRecord>;

export const RunState = z.enum(['running', 'completed', 'stopped', 'cancelled', 'failed']);

/**
 * How each step's batch runs: whole, or as micro-batches whose gradients add up to the whole
 * batch's (the memory planner's choice when the whole batch does not fit the backend's memory).
 */
export const BatchPlan = z.object({
  batchSize: z.number().int().min(1),
  /**
   * Data-parallel replicas, each training on its own part of every batch (ceil(batchSize /
   * replicas) images at most) on its own thread; 1 = one model for the whole batch.
   */
  replicas: z.number().int().min(1).default(1),
  /** Images per forward and backward pass (of a replica's part); the last one may hold fewer. */
  microBatchSize: z.number().int().min(1),
  /** Passes per batch (per replica's part): ceil(part / microBatchSize). */
  microBatches: z.number().int().min(1),
  /** Height and width of the images a step trains on (patch, or resized image padded to 16). */
  imageSize: z.object({ width: z.number().int(), height: z.number().int() }),
  /** The planner's estimate of the step's peak memory, and the backend's memory it was held to (null: not known). */
  estimatedBytes: z.number(),
  limitBytes: z.number().nullable(),
  /** One sentence: what was decided and why. */
  reason: z.string(),
});
export type BatchPlan = z.infer<typeof BatchPlan>;

/**
 * "batch 8 as 4 x 2" (micro-batch size x passes; the last pass may hold fewer), "batch 4" when
 * whole; with replicas "batch 8 on 2 replicas x 4" (and ", each as 2 x 2" when their parts are micro-batched).
 */
export function describeBatchPlan({ batchSize, microBatchSize, replicas = 1 }: Pick<BatchPlan, 'batchSize' | 'microBatchSize'> & { replicas?: number }): string {
  const part = Math.ceil(batchSize / replicas);
  const passes = Math.ceil(part / microBatchSize);
  const last = part - (passes - 1) * microBatchSize;
  const micro = `${microBatchSize} x ${passes}${last !== microBatchSize ? ` (the last ${last})` : ''}`;
  if (replicas > 1) return `batch ${batchSize} on ${replicas} replicas x ${part}${microBatchSize >= part ? '' : `, each as ${micro}`}`;
  return microBatchSize >= batchSize ? `batch ${batchSize}` : `batch ${batchSize} as ${micro}`;
}

export const RunSummary = z.object({
  id: z.string(),
  state: RunState,
  config: TrainConfig,
  backend: BackendReport.nullable(),
  /** Set when training starts (runs from before the planner have none). */
  batchPlan: BatchPlan.nullable().default(null),
  epochsDone: z.number().int(),
  bestEpoch: z.number().int().nullable(),
  bestValDice: z.number().nullable(),
  /** Project-relative folder of the best model (TF.js layers format), or null before the first epoch. */
  modelPath: z.string().nullable(),
  trainImages: z.number().int(),
  valImages: z.number().int(),
  error: z.string().nullable(),
  startedAt: z.string(),
  updatedAt: z.string(),
});
export type RunSummary = z.infer<typeof RunSummary>;

/** A project's runs, oldest first, and the run folders whose run.json could not be read (with why). */
export const RunListing = z.object({ runs: z.array(RunSummary), unreadable: z.array(FileProblem) });
export type RunListing = z.infer<typeof RunListing>;

export const TrainProgress = z.object({
  jobId: z.string(),
  runId: z.string(),
  epoch: z.number().int(),
  epochs: z.number().int(),
  step: z.number().int(),
  steps: z.number().int(),
  loss: z.number(),
  imagesPerSecond: z.number(),
  etaSeconds: z.number(),
});
export type TrainProgress = z.infer<typeof TrainProgress>;

/** What a caller asks for: a preset plus any overrides; the host resolves the full TrainConfig. */
export const TrainRequest = z.object({
  project: z.string().min(1),
  preset: PresetName.default('auto'),
  model: ModelConfig.omit({ classes: true }).partial().default({}),
  settings: TrainSettings.omit({ augmentation: true }).partial().extend({ augmentation: Augmentation.partial().optional() }).default({}),
  /** Continue this run from its last checkpoint (other fields are ignored). */
  resume: z.string().min(1).optional(),
  /** Start from the best weights of this run (fine-tuning after more masks were corrected). */
  from: z.string().min(1).optional(),
});
export type TrainRequest = z.output<typeof TrainRequest>;

export const TrainEpochEvent = z.object({ jobId: z.string(), runId: z.string(), record: EpochRecord });
export type TrainEpochEvent = z.infer<typeof TrainEpochEvent>;
