import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../contract/errors.js';
import type { TrainConfig } from '../../contract/training.js';
import { loadLayersModel } from '../model/model-files.js';
import { type CheckpointState, loadCheckpoint } from '../runs/checkpoint.js';
import { RunFolder } from '../runs/run-store.js';
import { initialScheduleState } from './lr-schedule.js';

/**
 * Where training starts: a fresh run (epoch 0, the seed's weights, or a finished run's best weights
 * for fine-tuning), or a resumed one, whose model and optimizer get the last checkpoint's values
 * and whose metrics file is cut back to that checkpoint's epoch.
 */
export async function startingState(run: RunFolder, config: TrainConfig, model: tf.LayersModel, optimizer: tf.Optimizer, resume: boolean): Promise<CheckpointState> {
  const fresh: CheckpointState = { epoch: 0, randomState: config.settings.seed, schedule: initialScheduleState(), bestEpoch: null, bestValDice: null };
  if (resume) {
    const checkpoint = await loadCheckpoint(run.checkpointFile).catch((err: AppError) => {
      if (err.code === 'not_found') return null; // killed before its first epoch ended
      throw err;
    });
    if (checkpoint) {
      try {
        model.setWeights(checkpoint.model.map((named) => named.tensor));
        await optimizer.setWeights(checkpoint.optimizer);
      } finally {
        tf.dispose(checkpoint.model.map((named) => named.tensor));
      }
      await run.truncateMetrics(checkpoint.epoch);
      const { epoch, randomState, schedule, bestEpoch, bestValDice } = checkpoint;
      return { epoch, randomState, schedule, bestEpoch, bestValDice };
    }
    await run.truncateMetrics(0);
  }
  if (config.initialWeightsFrom) await copyWeightsFrom(run, config.initialWeightsFrom, model);
  return fresh;
}

async function copyWeightsFrom(run: RunFolder, sourceRunId: string, model: tf.LayersModel): Promise<void> {
  const source = await RunFolder.open(run.project, sourceRunId);
  if (!source.summary.modelPath) throw new AppError('not_found', `Run ${sourceRunId} has no trained model yet.`);
  const { model: trained } = await loadLayersModel(source.modelDir);
  try {
    const target = model.getWeights();
    const weights = trained.getWeights();
    const mismatch = weights.length !== target.length || weights.some((tensor, index) => tensor.shape.join() !== target[index]!.shape.join());
    if (mismatch) throw new AppError('invalid_input', `Run ${sourceRunId} has a different architecture; fine-tuning needs the same model settings (base, up-sampling, channels, classes).`);
    model.setWeights(weights);
  } finally {
    trained.dispose();
  }
}
