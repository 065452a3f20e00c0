import * as tf from '@tensorflow/tfjs';
import { saveCheckpoint } from '../../runs/checkpoint.js';
import type { RunFolder } from '../../runs/run-store.js';
import type { TrainingCallback } from '../training-callback.js';

/**
 * After every epoch: its metrics line, then an atomic checkpoint of weights, optimizer and state.
 * In this order, and before the best model, for crash safety: a run killed at any point resumes
 * from a checkpoint whose epoch has its metrics line (see restoreCheckpoint).
 */
export function checkpointEveryEpoch(run: RunFolder): TrainingCallback {
  return {
    async onEpochEnd(context, { record }) {
      await run.appendMetrics(record);
      const optimizerState = await context.optimizer.optimizer.getWeights();
      try {
        const model = context.model.weights.map((weight) => ({ name: weight.originalName, tensor: weight.read() }));
        await saveCheckpoint(run.checkpointFile, { ...context.state, randomState: context.random.state(), model, optimizer: optimizerState });
      } finally {
        // getWeights returns the optimizer's own variables plus a fresh iteration-count tensor.
        tf.dispose(optimizerState.map((named) => named.tensor).filter((tensor) => !(tensor instanceof tf.Variable)));
      }
    },
  };
}
