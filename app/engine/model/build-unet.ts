import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../contract/training.js';
import { batchNormalization } from './batch-normalization-layer.js';
import { outputChannels } from './unet-shape.js';

type Layer = tf.SymbolicTensor;
type SeededInitializer = (kind: 'heNormal' | 'glorotUniform') => ReturnType<typeof tf.initializers.heNormal>;

/**
 * The U-Net users know from the reference PyTorch projects: DoubleConv (3x3 conv without bias ->
 * BatchNorm -> ReLU, twice) at widths b..16b, 2x2 max-pooling, four up stages (2x2 transposed conv
 * halving the channels, or bilinear x2 with the bottom at 8b), concatenation [skip, up], and a 1x1
 * head giving one logit (binary) or one per class. Convolutions are padded, so output size = input
 * size; any height and width that are multiples of 16 are accepted.
 */
export function buildUnet(config: ModelConfig, seed = 0): tf.LayersModel {
  // Every initializer draws from its own seeded stream, so a run's seed fixes its starting weights.
  let stream = 0;
  const initializer: SeededInitializer = (kind) => tf.initializers[kind]({ seed: seed * 1000 + stream++ });
  const b = config.base;
  const factor = config.upsampling === 'bilinear' ? 2 : 1;
  const input = tf.input({ shape: [null, null, config.inputChannels], name: 'image' });

  const x1 = doubleConv(input, b, 'inc', initializer);
  const x2 = down(x1, 2 * b, 'down1', initializer);
  const x3 = down(x2, 4 * b, 'down2', initializer);
  const x4 = down(x3, 8 * b, 'down3', initializer);
  const x5 = down(x4, (16 * b) / factor, 'down4', initializer);
  let x = up(x5, x4, (8 * b) / factor, config, 'up1', initializer);
  x = up(x, x3, (4 * b) / factor, config, 'up2', initializer);
  x = up(x, x2, (2 * b) / factor, config, 'up3', initializer);
  x = up(x, x1, b, config, 'up4', initializer);
  const logits = tf.layers
    .conv2d({ filters: outputChannels(config), kernelSize: 1, name: 'head', kernelInitializer: initializer('glorotUniform') })
    .apply(x) as Layer;
  return tf.model({ inputs: input, outputs: logits, name: `unet_b${b}_${config.upsampling}` });
}

function doubleConv(x: Layer, filters: number, name: string, initializer: SeededInitializer, midFilters = filters): Layer {
  const once = (tensor: Layer, width: number, index: number) => {
    const conv = tf.layers
      .conv2d({ filters: width, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: initializer('heNormal'), name: `${name}_conv${index}` })
      .apply(tensor) as Layer;
    // PyTorch's BatchNorm defaults (momentum 0.1, eps 1e-5), as in the reference models.
    const norm = batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: `${name}_bn${index}` }).apply(conv) as Layer;
    return tf.layers.reLU({ name: `${name}_relu${index}` }).apply(norm) as Layer;
  };
  return once(once(x, midFilters, 1), filters, 2);
}

function down(x: Layer, filters: number, name: string, initializer: SeededInitializer): Layer {
  const pooled = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }).apply(x) as Layer;
  return doubleConv(pooled, filters, name, initializer);
}

function up(x: Layer, skip: Layer, filters: number, config: ModelConfig, name: string, initializer: SeededInitializer): Layer {
  const inChannels = x.shape[3] as number;
  let upsampled: Layer;
  let midFilters = filters;
  if (config.upsampling === 'bilinear') {
    upsampled = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: `${name}_upsample` }).apply(x) as Layer;
    // The reference's bilinear Up uses in_channels // 2 channels in the middle of its DoubleConv.
    midFilters = (inChannels + (skip.shape[3] as number)) / 2;
  } else {
    upsampled = tf.layers
      .conv2dTranspose({ filters: inChannels / 2, kernelSize: 2, strides: 2, name: `${name}_transpose`, kernelInitializer: initializer('heNormal') })
      .apply(x) as Layer;
  }
  const merged = tf.layers.concatenate({ axis: -1, name: `${name}_concat` }).apply([skip, upsampled]) as Layer;
  return doubleConv(merged, filters, name, initializer, midFilters);
}
