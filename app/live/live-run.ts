import type { TrainConfig } from '../contract/training.js';
import { saveLayersModel } from '../engine/model/model-files.js';
import { RunFolder } from '../engine/runs/run-store.js';
import type { Project } from '../project/project.js';
import type { LiveTrainer } from './live-trainer.js';

/**
 * Saves a live session's model as a completed training run (`model/` as a trained run keeps it), so
 * segmentation, predictions and export take it like any run. It has no validation score.
 */
export async function saveLiveRun(project: Project, config: TrainConfig, trainer: LiveTrainer, images: number): Promise<string> {
  const run = await RunFolder.create(project, config);
  await saveLayersModel(trainer.model, run.modelDir, { unetStudio: { runId: run.id, epoch: 1, valDice: null, model: config.model, sizing: config.settings.sizing, classes: project.classes.slice(0, config.model.classes), liveSteps: trainer.steps } });
  await run.update({ state: 'completed', modelPath: `runs/${run.id}/model`, epochsDone: 1, trainImages: images, valImages: 0 });
  return run.id;
}
