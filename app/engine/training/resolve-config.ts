import { AppError } from '../../contract/errors.js';
import { TrainConfig, type TrainRequest } from '../../contract/training.js';
import { describeSchemaProblem } from '../../project/project-schema.js';
import type { Project } from '../../project/project.js';
import type { AutoPreset } from '../auto/auto-preset.js';
import { type Preset, PRESETS } from '../model/presets.js';

/**
 * The full configuration of a new run: the preset's values (the auto preset's as planned for this
 * project, see planAutoPreset), then the request's overrides; classes and channels come from the
 * project unless given. Invalid combinations are refused here, before any process starts, with the
 * field named.
 */
export function resolveTrainConfig(project: Project, request: TrainRequest, auto: AutoPreset | null = null): TrainConfig {
  if (request.preset === 'auto' && auto === null) throw new AppError('internal', 'The auto preset must be planned for the project first.');
  const preset: Preset = request.preset === 'auto' ? auto! : PRESETS[request.preset];
  const { augmentation, ...settings } = request.settings;
  const channels = request.model.inputChannels ?? (project.images.some((image) => image.channels >= 3) ? 3 : 1);
  const candidate = {
    preset: request.preset,
    model: { ...preset.model, inputChannels: channels, ...request.model, classes: project.classes.length },
    settings: {
      ...preset.settings,
      validationPercent: project.settings.validationPercent,
      classWeights: null,
      seed: project.settings.seed,
      backend: 'auto',
      timeBudgetSeconds: auto?.timeBudgetSeconds ?? null,
      ...settings,
      augmentation: { ...preset.settings.augmentation, ...augmentation },
    },
    initialWeightsFrom: request.from ?? null,
    choices: auto?.choices ?? [],
  };
  const parsed = TrainConfig.safeParse(candidate);
  if (!parsed.success) throw new AppError('invalid_input', `Invalid training settings: ${describeSchemaProblem(parsed.error)}`, parsed.error.issues);
  const { classWeights } = parsed.data.settings;
  if (classWeights && classWeights.length !== project.classes.length) {
    throw new AppError('invalid_input', `Invalid training settings: classWeights has ${classWeights.length} values but the project has ${project.classes.length} classes.`);
  }
  return parsed.data;
}
