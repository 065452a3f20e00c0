import type * as tf from '@tensorflow/tfjs';
import { AppError } from '../../contract/errors.js';
import type { AttributeValue, OnnxGraphBuilder } from './onnx-graph-builder.js';
import { foldBatchNorm, kernelToOnnx, type BatchNormWeights, type OnnxWeight } from './weight-layout.js';

export type Layer = tf.LayersModel['layers'][number];

/** What a converter gets for one tfjs layer; tensors in the ONNX graph are NCHW throughout. */
export interface LayerConversion {
  graph: OnnxGraphBuilder;
  layer: Layer;
  /** ONNX names of the layer's input tensors, in the layer's input order. */
  inputs: string[];
  /** The name the layer's output should get. */
  output: string;
  /** The one layer that reads this layer's output, or null when there are none or several. */
  soleConsumer: Layer | null;
  /** Marks `layer` as computed by this conversion (folded in); returns the name its output must get. */
  absorb(layer: Layer): string;
}

/** Emits the layer's ONNX nodes; returns the name of the tensor holding the layer's output. */
export type LayerConverter = (conversion: LayerConversion) => string;

/** tfjs layer class -> converter. Anything else is refused by name. */
export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  Conv2D: convolution('Conv'),
  Conv2DTranspose: convolution('ConvTranspose'),
  BatchNormalization: ({ layer }) => refuse(layer, 'batch normalisation is exported only directly after a convolution with a linear activation (folded into it)'),
  ReLU: relu,
  Activation: ({ graph, layer, inputs, output }) => activation(graph, layer, String(config(layer).activation), inputs[0]!, output),
  MaxPooling2D: maxPooling,
  UpSampling2D: upSampling,
  Concatenate: concatenate,
};

function convolution(opType: 'Conv' | 'ConvTranspose'): LayerConverter {
  return ({ graph, layer, inputs, output, soleConsumer, absorb }) => {
    const settings = channelsLastConfig(layer);
    const weights = namedWeights(layer);
    let weight: OnnxWeight = kernelToOnnx(required(layer, weights, 'kernel'));
    let bias = (weights.get('bias')?.dataSync() as Float32Array | undefined) ?? null;
    const activationName = String(settings.activation ?? 'linear');
    let result = output;
    if (activationName === 'linear' && soleConsumer?.getClassName() === 'BatchNormalization') {
      ({ weight, bias } = foldBatchNorm(weight, bias, batchNormWeights(soleConsumer), opType === 'Conv' ? 0 : 1));
      result = absorb(soleConsumer);
    }
    const attributes = opType === 'Conv' ? convAttributes(layer, settings) : convTransposeAttributes(layer, settings);
    const operands = [inputs[0]!, graph.weight(`${layer.name}/weight`, weight.dims, weight.values)];
    if (bias) operands.push(graph.weight(`${layer.name}/bias`, [bias.length], bias));
    if (activationName === 'linear') return graph.node(opType, layer.name, operands, result, attributes);
    const linear = graph.node(opType, layer.name, operands, `${layer.name}/linear`, attributes);
    return activation(graph, layer, activationName, linear, result);
  };
}

function relu({ graph, layer, inputs, output }: LayerConversion): string {
  const maxValue = config(layer).maxValue;
  if (maxValue !== null && maxValue !== undefined) refuse(layer, `ReLU with maxValue ${String(maxValue)} is not supported`);
  return graph.node('Relu', layer.name, [inputs[0]!], output);
}

/** tfjs activations act on the last (channel) axis, which is axis 1 in NCHW. */
function activation(graph: OnnxGraphBuilder, layer: Layer, name: string, input: string, output: string): string {
  switch (name) {
    case 'linear':
      return input;
    case 'relu':
      return graph.node('Relu', `${layer.name}/relu`, [input], output);
    case 'sigmoid':
      return graph.node('Sigmoid', `${layer.name}/sigmoid`, [input], output);
    case 'tanh':
      return graph.node('Tanh', `${layer.name}/tanh`, [input], output);
    case 'softmax':
      return graph.node('Softmax', `${layer.name}/softmax`, [input], output, { axis: 1 });
    default:
      return refuse(layer, `activation "${name}" is not supported (linear, relu, sigmoid, tanh and softmax are)`);
  }
}

function maxPooling({ graph, layer, inputs, output }: LayerConversion): string {
  const settings = channelsLastConfig(layer);
  const kernel = settings.poolSize as number[];
  const strides = settings.strides as number[];
  return graph.node('MaxPool', layer.name, [inputs[0]!], output, {
    kernel_shape: kernel,
    strides,
    ...forwardPadding(layer, String(settings.padding), kernel, strides, [1, 1]),
  });
}

/**
 * tfjs UpSampling2D calls tf.image.resizeBilinear / resizeNearestNeighbor with alignCorners = false
 * and halfPixelCenters = false: output pixel x samples input coordinate x / scale (clamped to the last
 * pixel), with floor() for nearest. That is ONNX Resize's "asymmetric" coordinate transformation
 * (x_original = x_resized / scale) with mode "linear", or "nearest" with nearest_mode "floor".
 */
function upSampling({ graph, layer, inputs, output }: LayerConversion): string {
  const settings = channelsLastConfig(layer);
  const [scaleY, scaleX] = settings.size as number[];
  const interpolation = String(settings.interpolation);
  if (interpolation !== 'bilinear' && interpolation !== 'nearest') refuse(layer, `interpolation "${interpolation}" is not supported`);
  const scales = graph.weight(`${layer.name}/scales`, [4], Float32Array.of(1, 1, scaleY!, scaleX!));
  const mode: Record<string, AttributeValue> = interpolation === 'bilinear' ? { mode: 'linear' } : { mode: 'nearest', nearest_mode: 'floor' };
  // The empty name leaves out Resize's optional `roi` input.
  return graph.node('Resize', layer.name, [inputs[0]!, '', scales], output, { coordinate_transformation_mode: 'asymmetric', ...mode });
}

const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];

function concatenate({ graph, layer, inputs, output }: LayerConversion): string {
  const axis = Number(config(layer).axis ?? -1);
  const nchwAxis = NHWC_TO_NCHW_AXIS[axis < 0 ? axis + 4 : axis];
  if (nchwAxis === undefined) refuse(layer, `concatenation axis ${axis} does not exist in an image tensor`);
  return graph.node('Concat', layer.name, inputs, output, { axis: nchwAxis! });
}

function convAttributes(layer: Layer, settings: Record<string, unknown>): Record<string, AttributeValue> {
  const kernel = settings.kernelSize as number[];
  const strides = settings.strides as number[];
  const dilations = settings.dilationRate as number[];
  return { kernel_shape: kernel, strides, dilations, ...forwardPadding(layer, String(settings.padding), kernel, strides, dilations) };
}

/**
 * tfjs transposed convolutions give out = in * stride ('same') or in * stride + max(k - stride, 0)
 * ('valid'); ONNX ConvTranspose gives stride * (in - 1) + output_padding + k - pads. For 'same' the
 * pads crop k - stride pixels, the smaller half at the start, as TensorFlow does.
 */
function convTransposeAttributes(layer: Layer, settings: Record<string, unknown>): Record<string, AttributeValue> {
  const kernel = settings.kernelSize as number[];
  const strides = settings.strides as number[];
  const padding = String(settings.padding);
  if (padding !== 'same' && padding !== 'valid') refuse(layer, `padding "${padding}" is not supported`);
  const overlap = kernel.map((size, axis) => size - strides[axis]!);
  const crop = overlap.map((value) => (padding === 'same' ? Math.max(value, 0) : 0));
  const begin = crop.map((total) => Math.floor(total / 2));
  return {
    kernel_shape: kernel,
    strides,
    pads: [...begin, ...crop.map((total, axis) => total - begin[axis]!)],
    output_padding: overlap.map((value) => Math.max(-value, 0)),
  };
}

/** TensorFlow's 'same' padding puts the odd pixel at the end, as ONNX's SAME_UPPER does. */
function forwardPadding(layer: Layer, padding: string, kernel: number[], strides: number[], dilations: number[]): Record<string, AttributeValue> {
  if (padding === 'valid') return {};
  if (padding !== 'same') return refuse(layer, `padding "${padding}" is not supported`);
  // With stride 1 the amount is fixed, so it is written out; otherwise it depends on the input size.
  if (strides.some((stride) => stride !== 1)) return { auto_pad: 'SAME_UPPER' };
  const total = kernel.map((size, axis) => (size - 1) * dilations[axis]!);
  const begin = total.map((value) => Math.floor(value / 2));
  return { pads: [...begin, ...total.map((value, axis) => value - begin[axis]!)] };
}

function batchNormWeights(layer: Layer): BatchNormWeights {
  const settings = config(layer);
  const axis = Number(settings.axis ?? -1);
  if (axis !== -1 && axis !== 3) refuse(layer, `batch normalisation over axis ${axis} is not supported (only the channel axis)`);
  const weights = namedWeights(layer);
  const values = (name: string) => (weights.get(name)?.dataSync() as Float32Array | undefined) ?? null;
  return {
    gamma: values('gamma'),
    beta: values('beta'),
    movingMean: required(layer, weights, 'moving_mean').dataSync() as Float32Array,
    movingVariance: required(layer, weights, 'moving_variance').dataSync() as Float32Array,
    epsilon: Number(settings.epsilon),
  };
}

function config(layer: Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

function channelsLastConfig(layer: Layer): Record<string, unknown> {
  const settings = config(layer);
  if (settings.dataFormat !== undefined && settings.dataFormat !== 'channelsLast') refuse(layer, 'only channels-last (NHWC) layers are supported');
  return settings;
}

/** The layer's weights by their own name (`kernel`, `bias`, `gamma`, `moving_mean`, ...). */
function namedWeights(layer: Layer): Map<string, tf.Tensor> {
  return new Map(layer.weights.map((weight) => [(weight.originalName ?? weight.name).split('/').pop()!, weight.read()]));
}

function required(layer: Layer, weights: Map<string, tf.Tensor>, name: string): tf.Tensor {
  return weights.get(name) ?? refuse(layer, `its "${name}" weight is missing`);
}

export function refuse(layer: Layer, problem: string): never {
  throw new AppError('invalid_input', `Cannot export layer "${layer.name}" (${layer.getClassName()}) to ONNX: ${problem}.`);
}
