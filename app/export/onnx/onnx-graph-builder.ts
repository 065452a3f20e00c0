import os from 'node:os';
import { ATTRIBUTE_TYPE, ONNX_FLOAT, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-schema.js';

export type AttributeValue = number | string | number[];

/** Collects the nodes and weights of an ONNX graph in the order they are added (already topological). */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];

  /** Adds one operator (the ops exported take only integer, integer-list and string attributes). */
  node(opType: string, name: string, input: string[], output: string, attributes: Record<string, AttributeValue> = {}): string {
    this.nodes.push({ name, op_type: opType, input, output: [output], attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)) });
    return output;
  }

  /** A float32 weight tensor; returns its name for use as a node input. */
  weight(name: string, dims: readonly number[], values: Float32Array): string {
    this.initializers.push({ name, dims: [...dims], data_type: ONNX_FLOAT, raw_data: littleEndianBytes(values) });
    return name;
  }
}

function attribute(name: string, value: AttributeValue): OnnxAttribute {
  if (typeof value === 'string') return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: ATTRIBUTE_TYPE.INTS, ints: value };
  return { name, type: ATTRIBUTE_TYPE.INT, i: value };
}

// ONNX raw_data is little-endian; a Float32Array's bytes are in host order.
function littleEndianBytes(values: Float32Array): Uint8Array {
  if (os.endianness() === 'LE') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = Buffer.alloc(values.byteLength);
  values.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes;
}
