import type * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../../../contract/training.js';
import { readModelMetadata, saveLayersModel } from '../../model/model-files.js';
import type { RunFolder } from '../../runs/run-store.js';
import type { TrainingCallback } from '../training-callback.js';

/**
 * Keeps the run's best model (by validation Dice; the latest when there is no validation) in
 * `model/`, written after the epoch's checkpoint. On a resume it first repairs a crash between the
 * two writes: the checkpoint of the best epoch then holds the best weights.
 */
export function keepBestModel(run: RunFolder): TrainingCallback {
  return {
    async onTrainBegin(context) {
      const { epoch, bestEpoch, bestValDice } = context.state;
      if (bestEpoch !== null && bestEpoch === epoch && (await bestModelEpoch(run)) !== epoch) {
        await saveBestModel(context.model, run, epoch, bestValDice, context.config);
      }
    },
    async onEpochEnd(context, { record, improved }) {
      if (improved) await saveBestModel(context.model, run, record.epoch, record.valDice, context.config);
    },
  };
}

async function saveBestModel(model: tf.LayersModel, run: RunFolder, epoch: number, valDice: number | null, config: TrainConfig): Promise<void> {
  await saveLayersModel(model, run.modelDir, { unetStudio: { runId: run.id, epoch, valDice, model: config.model, sizing: config.settings.sizing, classes: run.project.classes.slice(0, config.model.classes) } });
  await run.update({ modelPath: `runs/${run.id}/model` });
}

async function bestModelEpoch(run: RunFolder): Promise<number | null> {
  const metadata = await readModelMetadata(run.modelDir).catch(() => ({}) as Record<string, unknown>);
  return (metadata.unetStudio as { epoch?: number } | undefined)?.epoch ?? null;
}
