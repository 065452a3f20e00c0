import { TrainRequest } from '../../app/contract/training.js';
import { initialiseBackend } from '../../app/engine/backend/select-backend.js';
import { buildUnet } from '../../app/engine/model/build-unet.js';
import { saveLayersModel } from '../../app/engine/model/model-files.js';
import { prepareRun } from '../../app/engine/training/prepare-run.js';
import type { Project } from '../../app/project/project.js';
import { TINY_SETTINGS } from './tiny-project.js';

/** A run whose best model is an untrained base-8 U-Net: enough to be chosen, exported and run, in a second. */
export async function untrainedRun(project: Project): Promise<string> {
  await initialiseBackend('wasm');
  const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, model: { base: 8 }, settings: TINY_SETTINGS }));
  const config = run.summary.config;
  const network = buildUnet(config.model);
  await saveLayersModel(network, run.modelDir, {
    unetStudio: { runId: run.id, epoch: 1, valDice: 0.5, model: config.model, sizing: config.settings.sizing, classes: project.classes.slice(0, config.model.classes) },
  });
  network.dispose();
  await run.update({ modelPath: `runs/${run.id}/model`, epochsDone: 1, bestEpoch: 1, bestValDice: 0.5 });
  return run.id;
}
