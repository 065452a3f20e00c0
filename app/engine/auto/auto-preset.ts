import { type Augmentation, DEFAULT_TIME_BUDGET_SECONDS, type InputSizing, type ModelConfig, type PresetChoice, type TrainRequest } from '../../contract/training.js';
import { assignSplits } from '../../dataset/splits.js';
import type { Project } from '../../project/project.js';
import { paddedSize } from '../data/batch.js';
import { sizedDimensions } from '../data/load-samples.js';
import { backendMemory, formatGiB } from '../memory/backend-memory.js';
import { estimateStepMemory } from '../memory/step-memory.js';
import type { Preset } from '../model/presets.js';
import { expectedBackend } from './expected-backend.js';
import { medianObjectDiameter } from './object-scale.js';
import { secondsPerImage } from './step-time.js';

export interface AutoPreset extends Preset {
  timeBudgetSeconds: number | null;
  choices: PresetChoice[];
}

/** Whole images up to this side; larger ones train on patches of at most this side. */
const LARGEST_WHOLE_SIDE = 512;
/** A wider model is chosen only when the budget still allows this many epochs with it. */
const EPOCHS_FOR_WIDER_MODEL = 25;
const MAX_EPOCHS = 1000;

/**
 * The "auto" preset: settings derived from the project's data and this machine, as nnU-Net
 * derives its plan from the dataset's fingerprint. Values the request gives are kept and the
 * rest are chosen around them: image scale from object size, patch from image and object size,
 * base width and batch from the memory planner and the backend, epochs from the time budget,
 * augmentation from channels, bit depth and the amount of data. Every choice comes with its reason.
 */
export async function planAutoPreset(project: Project, request: TrainRequest, signal?: AbortSignal): Promise<AutoPreset> {
  const choices: PresetChoice[] = [];
  const choose = <Value>(setting: string, value: Value, shown: string, reason: string): Value => {
    choices.push({ setting, value: shown, reason });
    return value;
  };
  const given = request.settings;
  const labelled = project.images.filter((image) => image.mask !== null);
  const validationPercent = given.validationPercent ?? project.settings.validationPercent;
  const splits = assignSplits(labelled, { validationPercent, seed: project.settings.seed });
  const trainCount = Math.max(1, labelled.filter((image) => splits.get(image.id) === 'train').length);
  const valCount = labelled.length - trainCount;
  const colour = labelled.some((image) => image.channels >= 3);
  const sixteenBit = labelled.some((image) => image.bitDepth === 16);
  const sides = labelled.map((image) => Math.sqrt(image.width * image.height)).sort((a, b) => a - b);
  const medianSide = sides.length ? sides[Math.floor(sides.length / 2)]! : 256;
  const backend = expectedBackend(given.backend ?? 'auto');
  const memory = backendMemory(backend.name);
  const gpu = backend.name === 'tfjs-node-gpu';
  choose('backend', backend.name, backend.name, `${backend.reason}; ${memory.limitBytes === null ? memory.limitReason : `plans for ${formatGiB(memory.limitBytes)}, ${memory.limitReason}`}`);

  // Object size decides how far images can shrink and how much context a patch needs.
  const diameter = labelled.length ? await medianObjectDiameter(project, labelled, signal) : null;
  const objects = diameter === null ? 'no labelled objects to measure' : `the labelled objects are about ${Math.round(diameter)} px across, the median over the masks`;
  const halve = diameter !== null && diameter >= 96 && medianSide >= 1024;
  const sizing: InputSizing = given.sizing ?? choose<InputSizing>('image scale', { mode: 'scale', scale: halve ? 0.5 : 1 }, halve ? '0.5' : '1', halve ? `${objects}: at half size they keep ${Math.round(diameter / 2)} px and a step costs a quarter` : `${objects}: full resolution keeps them`);
  const scale = sizing.mode === 'scale' ? sizing.scale : null;
  const sized = labelled.map((image) => sizedDimensions(image.width, image.height, sizing));
  const largestSide = sized.length ? Math.max(...sized.map((size) => Math.max(size.width, size.height))) : 256;
  const smallestSide = sized.length ? Math.min(...sized.map((size) => Math.min(size.width, size.height))) : 256;
  const objectSide = diameter === null ? null : diameter * (scale ?? 1);

  const channels = request.model.inputChannels ?? (colour ? 3 : 1);
  const modelFor = (base: ModelConfig['base']): ModelConfig => ({ base, upsampling: request.model.upsampling ?? 'transpose', inputChannels: channels, classes: project.classes.length });
  const fits = (base: ModelConfig['base'], side: number, images: number) => memory.limitBytes === null || estimateStepMemory(modelFor(base), { width: side, height: side }, images, memory.model).totalBytes <= memory.limitBytes;

  // Patch: whole images when they are small, else crops large enough for several objects with context.
  let patchSize: number | null;
  if (given.patchSize !== undefined) {
    patchSize = given.patchSize;
  } else if (largestSide <= LARGEST_WHOLE_SIDE) {
    patchSize = choose('patch', null, 'whole images', `the images are at most ${largestSide} px at this scale`);
  } else {
    const context = objectSide === null ? 256 : paddedSize(Math.max(256, 4 * objectSide));
    const side = Math.min(LARGEST_WHOLE_SIDE, context, Math.floor(smallestSide / 16) * 16);
    patchSize = choose('patch', side, `${side}x${side}`, `images up to ${largestSide} px; ${side} px crops hold ${objectSide === null ? 'a large view' : `about ${Math.max(1, Math.round(side / objectSide))} objects across`} and each step sees a different part`);
  }
  const stepSide = patchSize ?? paddedSize(largestSide);
  const stepPixels = stepSide * stepSide;
  const valPixels = sized.length ? sized.reduce((sum, size) => sum + size.width * size.height, 0) / sized.length : stepPixels;

  const budget = given.timeBudgetSeconds ?? (given.epochs === undefined ? DEFAULT_TIME_BUDGET_SECONDS : null);
  const epochSeconds = (base: ModelConfig['base']) =>
    trainCount * secondsPerImage(modelFor(base), stepPixels, backend.name, 'train') + valCount * secondsPerImage(modelFor(base), valPixels, backend.name, 'inference');
  const epochsFor = (base: ModelConfig['base']) => (budget === null ? null : Math.max(1, Math.min(MAX_EPOCHS, Math.floor(budget / epochSeconds(base)))));

  // Base width: the widest the memory and the budget afford.
  let base: ModelConfig['base'];
  if (request.model.base !== undefined) {
    base = request.model.base;
  } else {
    const candidates: ModelConfig['base'][] = gpu ? [32, 16, 8] : [16, 8];
    const affordable = candidates.find((width) => fits(width, stepSide, 2) && (epochsFor(width) ?? EPOCHS_FOR_WIDER_MODEL) >= EPOCHS_FOR_WIDER_MODEL) ?? 8;
    const why =
      affordable === candidates[0]
        ? `the widest tried on ${gpu ? 'a GPU' : 'a CPU'}; it fits the memory and the budget allows ${epochsFor(affordable) ?? 'the given'} epochs`
        : `a wider model would leave fewer than ${EPOCHS_FOR_WIDER_MODEL} epochs in the budget or not fit the memory`;
    base = choose('base', affordable, String(affordable), why);
  }

  // Batch: the largest that fits whole; on a CPU at most 4 (more images per step cost the same per image, with fewer steps).
  let batchSize: number;
  if (given.batchSize !== undefined) {
    batchSize = given.batchSize;
  } else {
    const largest = gpu ? 8 : 4;
    const candidates = [8, 4, 2].filter((size) => size <= largest && size <= Math.max(2, trainCount));
    batchSize = candidates.find((size) => fits(base, stepSide, size)) ?? 2;
    choose('batch size', batchSize, String(batchSize), fits(base, stepSide, batchSize) ? `the largest of ${candidates.join(', ')} whose step fits the memory whole${gpu ? '' : '; on a CPU a larger batch only means fewer steps'}` : 'even 2 does not fit whole; it runs as micro-batches');
  }

  let epochs: number;
  if (given.epochs !== undefined) {
    epochs = given.epochs;
  } else {
    epochs = epochsFor(base)!;
    choose('epochs', epochs, `about ${epochs}`, `${formatMinutes(budget!)} budget at an estimated ${Math.round(epochSeconds(base))} s per epoch for ${trainCount} training and ${valCount} validation images; set again from the first epochs' measured time`);
  }
  if (budget !== null) choose('time budget', budget, formatMinutes(budget), given.timeBudgetSeconds !== undefined ? 'given with --budget' : 'the default (--budget to change it)');

  const fewImages = trainCount < 100;
  const augmentation: Augmentation = {
    flips: true,
    rotate90: true,
    scale: fewImages ? [0.8, 1.25] : [0.9, 1.1],
    rotateDegrees: fewImages ? 15 : 0,
    brightness: sixteenBit ? 0.2 : 0.1,
    contrast: sixteenBit ? 0.2 : 0.1,
    noise: colour ? 0.01 : 0.02,
  };
  choose(
    'augmentation',
    augmentation,
    `flips, 90° turns, zoom ${augmentation.scale.join('-')}${augmentation.rotateDegrees ? `, ±${augmentation.rotateDegrees}°` : ''}, brightness/contrast ${augmentation.brightness}, noise ${augmentation.noise}`,
    [
      fewImages ? `${trainCount} training images: strong geometric augmentation` : `${trainCount} training images: light geometric augmentation`,
      sixteenBit ? '16-bit images: wider brightness and contrast changes, as exposure varies more' : '8-bit images: mild brightness and contrast changes',
      colour ? 'colour images: little noise' : 'grey images, as in microscopy and EM: sensor-like noise',
    ].join('; '),
  );
  const learningRate = base <= 16 ? 2e-3 : 1e-3;
  choose('optimizer', 'adam', `Adam ${learningRate}, warm-up then poly decay, no early stop`, `converges quickly from scratch; ${budget === null ? 'the epochs are given' : 'the budget ends training'} and the best epoch is kept`);

  return {
    description: 'configures itself from the data and this machine (nnU-Net style), within a time budget',
    model: { base, upsampling: request.model.upsampling ?? 'transpose' },
    settings: {
      epochs,
      batchSize,
      learningRate,
      optimizer: 'adam',
      weightDecay: 0,
      schedule: 'poly',
      warmupEpochs: epochs >= 5 ? 1 : 0,
      clipNorm: 1,
      patience: 0,
      sizing,
      patchSize,
      augmentation,
    },
    timeBudgetSeconds: budget,
    choices,
  };
}

export function formatMinutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${Math.round(seconds)} s`;
}
