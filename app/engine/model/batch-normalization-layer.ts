import * as tf from '@tensorflow/tfjs';

import { batchNormInTraining } from './batch-norm-in-training.js';

type LayerArgs = Parameters<typeof tf.layers.batchNormalization>[0];
type LayerVariable = { read(): tf.Tensor; write(value: tf.Tensor): void };

/** The fields of tfjs-layers' BatchNormalization that training needs (private in its typings). */
interface BatchNormalizationFields {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: LayerVariable;
  beta: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

// tfjs-layers does not export the class by name; an instance leads to it.
const TfjsBatchNormalization = tf.layers.batchNormalization().constructor as new (args?: LayerArgs) => tf.layers.Layer;

/**
 * tfjs-layers' BatchNormalization with a faster training step (batchNormInTraining) for the
 * U-Net's case: 4-D input normalised over the channel axis, with scale and centre. Everything else,
 * inference included, is the parent's. It keeps the parent's class name and config, so saved
 * models are plain TF.js models that load without this class.
 */
class FastBatchNormalization extends TfjsBatchNormalization {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    const fields = this as unknown as BatchNormalizationFields;
    const channelAxis = fields.axis === -1 || fields.axis === 3;
    if (kwargs['training'] !== true || input.rank !== 4 || !channelAxis || !fields.center || !fields.scale) {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() => {
      const { output, mean, variance } = batchNormInTraining(input as tf.Tensor4D, fields.gamma.read() as tf.Tensor1D, fields.beta.read() as tf.Tensor1D, fields.epsilon);
      // The moving averages as tfjs-layers keeps them: moving -= (moving - batch) * (1 - momentum).
      for (const [moving, batch] of [[fields.movingMean, mean], [fields.movingVariance, variance]] as const) {
        const current = moving.read();
        moving.write(tf.sub(current, tf.mul(tf.sub(current, batch), 1 - fields.momentum)));
      }
      tf.dispose([mean, variance]);
      return output;
    });
  }
}

export function batchNormalization(args: LayerArgs): tf.layers.Layer {
  return new FastBatchNormalization(args);
}
