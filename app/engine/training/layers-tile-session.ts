import * as tf from '@tensorflow/tfjs';
import type { ModelOutput, TileSession } from '../../inference/session-thread.js';

/**
 * The model in training as the tile runner of the `segment` command sees a model: NCHW tiles in,
 * NCHW logits out, in inference mode (BatchNorm uses its running statistics). Tiles of a run go
 * through the model one at a time: a forward pass keeps all its activations until it ends, so one
 * tile at a time bounds the backend's memory, and the results do not depend on the grouping.
 */
export function layersTileSession(model: tf.LayersModel): TileSession {
  return {
    parallelism: 1,
    async run(input, dims): Promise<ModelOutput> {
      const [tiles, channels, height, width] = dims as [number, number, number, number];
      const tileValues = channels * height * width;
      let output: Float32Array | null = null;
      let outputChannels = 0;
      for (let tile = 0; tile < tiles; tile++) {
        const logits = tf.tidy(() => {
          const image = tf.transpose(tf.tensor4d(input.subarray(tile * tileValues, (tile + 1) * tileValues), [1, channels, height, width]), [0, 2, 3, 1]);
          return tf.transpose(model.apply(image, { training: false }) as tf.Tensor4D, [0, 3, 1, 2]);
        });
        outputChannels = logits.shape[1]!;
        output ??= new Float32Array(tiles * outputChannels * height * width);
        try {
          // Read asynchronously: the webgpu backend has no synchronous reads in Node.
          output.set((await logits.data()) as Float32Array, tile * outputChannels * height * width);
        } finally {
          logits.dispose();
        }
      }
      return { data: output!, dims: [tiles, outputChannels, height, width] };
    },
    async release() {},
  };
}
