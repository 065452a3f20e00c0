import * as tf from '@tensorflow/tfjs';
import { TrainRequest, type ModelConfig, type TrainSettings } from '../../app/contract/training.js';
import { buildUnet } from '../../app/engine/model/build-unet.js';
import { saveLayersModel } from '../../app/engine/model/model-files.js';
import type { RunFolder } from '../../app/engine/runs/run-store.js';
import { prepareRun } from '../../app/engine/training/prepare-run.js';
import type { Project } from '../../app/project/project.js';
import { TINY_SETTINGS } from './tiny-project.js';

/** A project run whose best model is a U-Net with random weights and random batch-norm statistics. */
export async function runWithRandomModel(project: Project, model: Omit<ModelConfig, 'classes'>, seed: number, settings: Partial<TrainSettings> = {}): Promise<{ run: RunFolder; network: tf.LayersModel }> {
  const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, model, settings: { ...TINY_SETTINGS, ...settings } }));
  const config = run.summary.config;
  const network = buildUnet(config.model);
  randomiseWeights(network, seed);
  await saveLayersModel(network, run.modelDir, {
    unetStudio: { runId: run.id, epoch: 2, valDice: 0.625, model: config.model, sizing: config.settings.sizing, classes: project.classes.slice(0, config.model.classes) },
  });
  await run.update({ modelPath: `runs/${run.id}/model`, epochsDone: 2, bestEpoch: 2, bestValDice: 0.625 });
  return { run, network };
}

/**
 * Seeded weights (so a failure repeats), with moving means and variances, gammas, betas and biases far
 * from their initial 0/1, so batch-norm folding and bias handling are really tested.
 */
export function randomiseWeights(model: tf.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    const values = layer.weights.map((weight, index) => {
      const name = weight.originalName ?? weight.name;
      const shape = weight.shape as number[];
      const draw = seed * 1000 + index;
      if (name.endsWith('/kernel')) return tf.randomNormal(shape, 0, Math.sqrt(2 / (shape[0]! * shape[1]! * shape[2]!)), 'float32', draw);
      if (name.endsWith('/gamma')) return tf.randomUniform(shape, 0.5, 1.5, 'float32', draw);
      if (name.endsWith('/moving_variance')) return tf.randomUniform(shape, 0.3, 2, 'float32', draw);
      return tf.randomNormal(shape, 0, 0.3, 'float32', draw); // bias, beta, moving_mean
    });
    if (values.length) layer.setWeights(values);
    tf.dispose(values);
  }
}
