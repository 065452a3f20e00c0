import type { ModelConfig, PresetName, TrainSettings } from '../../contract/training.js';

export interface Preset {
  description: string;
  model: Pick<ModelConfig, 'base' | 'upsampling'>;
  settings: Omit<TrainSettings, 'seed' | 'backend' | 'validationPercent' | 'classWeights' | 'cacheMiB'>;
}

const STANDARD_AUGMENTATION = { flips: true, rotate90: true, scale: [0.8, 1.25] as [number, number], rotateDegrees: 15, brightness: 0.1, contrast: 0.1, noise: 0.02 };

/** Starting points a user picks from; every field can still be overridden. */
export const PRESETS: Record<PresetName, Preset> = {
  fast: {
    description: 'small U-Net (base 8) on half-size images: minutes on a laptop CPU',
    model: { base: 8, upsampling: 'transpose' },
    settings: {
      epochs: 30, batchSize: 4, learningRate: 2e-3, optimizer: 'adam', weightDecay: 0, schedule: 'poly', warmupEpochs: 1,
      clipNorm: 1, patience: 0, sizing: { mode: 'scale', scale: 0.5 }, patchSize: null,
      augmentation: { ...STANDARD_AUGMENTATION, scale: [1, 1], rotateDegrees: 0, noise: 0 },
    },
  },
  standard: {
    description: 'base 16 at full size with the usual augmentation; a GPU helps',
    model: { base: 16, upsampling: 'transpose' },
    settings: {
      epochs: 50, batchSize: 4, learningRate: 1e-3, optimizer: 'adamw', weightDecay: 1e-4, schedule: 'poly', warmupEpochs: 1,
      clipNorm: 1, patience: 15, sizing: { mode: 'scale', scale: 1 }, patchSize: 256, augmentation: STANDARD_AUGMENTATION,
    },
  },
  paper: {
    description: 'the original width (base 64); for a GPU',
    model: { base: 64, upsampling: 'transpose' },
    settings: {
      epochs: 100, batchSize: 2, learningRate: 1e-4, optimizer: 'adam', weightDecay: 0, schedule: 'plateau', warmupEpochs: 0,
      clipNorm: 1, patience: 20, sizing: { mode: 'scale', scale: 1 }, patchSize: 512, augmentation: STANDARD_AUGMENTATION,
    },
  },
};
