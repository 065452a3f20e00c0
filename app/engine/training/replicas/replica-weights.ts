import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '../../runs/checkpoint.js';
import type { ReplicaWeights, TensorValues } from './replica-messages.js';

/** A model's weights and its optimizer's state as values that can cross to another thread. */
export async function readWeights(model: tf.LayersModel, optimizer: tf.Optimizer): Promise<ReplicaWeights> {
  const values = async (name: string, tensor: tf.Tensor): Promise<TensorValues> => ({ name, shape: tensor.shape, values: Float32Array.from(await tensor.data()) });
  const optimizerState = await optimizer.getWeights();
  try {
    return {
      model: await Promise.all(model.weights.map((weight) => values(weight.originalName, weight.read()))),
      optimizer: await Promise.all(optimizerState.map((named) => values(named.name, named.tensor))),
    };
  } finally {
    // getWeights returns the optimizer's own variables plus a fresh iteration-count tensor.
    tf.dispose(optimizerState.map((named) => named.tensor).filter((tensor) => !(tensor instanceof tf.Variable)));
  }
}

/** Tensors of values read by readWeights (the caller disposes them, or hands them to setWeights). */
export function toNamedTensors(values: readonly TensorValues[]): NamedTensor[] {
  return values.map(({ name, shape, values: data }) => ({ name, tensor: tf.tensor(data, shape) }));
}
