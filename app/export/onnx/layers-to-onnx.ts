import type * as tf from '@tensorflow/tfjs';
import { AppError } from '../../contract/errors.js';
import { LAYER_CONVERTERS, refuse, type Layer } from './layer-converters.js';
import { OnnxGraphBuilder } from './onnx-graph-builder.js';
import { ONNX_FLOAT, type OnnxDimension, type OnnxModel, type OnnxValueInfo } from './onnx-schema.js';

/** Opset 17 = ONNX 1.12, the newest that Debian's python3-onnx checker and every current runtime know. */
export const ONNX_OPSET = 17;
const ONNX_IR_VERSION = 8;

const ONNX_INPUT = 'image';
const ONNX_LOGITS = 'logits';
const ONNX_PROBABILITIES = 'probabilities';

export interface OnnxConversionOptions {
  /** Adds a `probabilities` output: sigmoid for one channel, softmax over the channels otherwise. */
  probabilities: boolean;
  /** Leaves `logits` out of the graph's outputs (with `probabilities`, for tools that take the first output). */
  probabilitiesOnly?: boolean;
  graphName: string;
  producerVersion: string;
  docString: string;
  metadata: Record<string, string>;
}

/**
 * Converts a tfjs image model (NHWC) into an ONNX model that takes float32 NCHW `image` with dynamic
 * batch, height and width, and gives NCHW `logits`. Layers are converted by class, in the model's
 * topological order; a convolution followed only by batch normalisation absorbs it.
 */
export function layersModelToOnnx(model: tf.LayersModel, options: OnnxConversionOptions): OnnxModel {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new AppError('invalid_input', `Cannot export model "${model.name}" to ONNX: it has ${model.inputs.length} inputs and ${model.outputs.length} outputs; one of each is supported.`);
  }
  const inputShape = model.inputs[0]!.shape;
  const outputShape = model.outputs[0]!.shape;
  if (inputShape.length !== 4 || outputShape.length !== 4) {
    throw new AppError('invalid_input', `Cannot export model "${model.name}" to ONNX: only image models (batch, height, width, channels) are supported.`);
  }
  const graph = new OnnxGraphBuilder();
  const outputLayer = model.outputLayers[0]!;
  const nameFor = (layer: Layer) => (layer === outputLayer ? ONNX_LOGITS : layer.name);
  const consumers = consumersOf(model.layers);
  const produced = new Map<Layer, string>();
  for (const layer of model.layers) {
    if (produced.has(layer)) continue; // folded into the layer before it
    if (layer.getClassName() === 'InputLayer') {
      produced.set(layer, ONNX_INPUT);
      continue;
    }
    if (layer.inboundNodes.length !== 1) refuse(layer, 'layers applied more than once (shared layers) are not supported');
    const converter = LAYER_CONVERTERS[layer.getClassName()] ?? refuse(layer, `this layer type is not supported (supported: InputLayer, ${Object.keys(LAYER_CONVERTERS).join(', ')})`);
    const readers = consumers.get(layer) ?? [];
    const output = converter({
      graph,
      layer,
      inputs: layer.inboundNodes[0]!.inboundLayers.map((source) => produced.get(source)!),
      output: nameFor(layer),
      soleConsumer: readers.length === 1 && layer !== outputLayer ? readers[0]! : null,
      absorb: (folded) => {
        produced.set(folded, nameFor(folded));
        return nameFor(folded);
      },
    });
    produced.set(layer, output);
  }
  const logits = produced.get(outputLayer)!;
  if (logits !== ONNX_LOGITS) graph.node('Identity', ONNX_LOGITS, [logits], ONNX_LOGITS);
  const outputChannels = outputShape[3]!;
  const outputs = options.probabilitiesOnly ? [] : [valueInfo(ONNX_LOGITS, outputShape, 'one logit per output channel')];
  if (options.probabilities || options.probabilitiesOnly) {
    if (outputChannels === 1) graph.node('Sigmoid', ONNX_PROBABILITIES, [ONNX_LOGITS], ONNX_PROBABILITIES);
    else graph.node('Softmax', ONNX_PROBABILITIES, [ONNX_LOGITS], ONNX_PROBABILITIES, { axis: 1 });
    outputs.push(valueInfo(ONNX_PROBABILITIES, outputShape, outputChannels === 1 ? 'sigmoid of the logit' : 'softmax over the channels'));
  }
  return {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'U-Net Studio',
    producer_version: options.producerVersion,
    doc_string: options.docString,
    graph: {
      name: options.graphName,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(ONNX_INPUT, inputShape, 'float32 NCHW intensities; height and width multiples of 16')],
      output: outputs,
    },
    metadata_props: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
  };
}

/** For each layer, the layers that read its output. */
function consumersOf(layers: readonly Layer[]): Map<Layer, Layer[]> {
  const consumers = new Map<Layer, Layer[]>();
  for (const layer of layers) {
    for (const node of layer.inboundNodes) {
      for (const source of node.inboundLayers) consumers.set(source, [...(consumers.get(source) ?? []), layer]);
    }
  }
  return consumers;
}

// Unknown sizes become named dimensions; U-Net Studio's models keep the input's height and width.
const DIMENSION_NAMES = ['batch', 'channels', 'height', 'width'];

/** NHWC tfjs shape -> NCHW ONNX tensor type. */
function valueInfo(name: string, nhwc: readonly (number | null)[], doc: string): OnnxValueInfo {
  const [batch, height, width, channels] = nhwc;
  const dim = [batch, channels, height, width].map((size, axis): OnnxDimension => {
    if (size !== null && size !== undefined) return { dim_value: size };
    return { dim_param: DIMENSION_NAMES[axis]! };
  });
  return { name, doc_string: doc, type: { tensor_type: { elem_type: ONNX_FLOAT, shape: { dim } } } };
}
