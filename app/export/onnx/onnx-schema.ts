import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * The ONNX messages U-Net Studio writes, as plain objects with the official field names (snake_case,
 * as in onnx.proto). They are encoded by protobufjs from the vendored official schema
 * `resources/onnx/onnx-subset.proto`, so no protobuf bytes are written by hand.
 */
export interface OnnxTensor {
  name: string;
  dims: number[];
  /** `TensorProto.DataType`: 1 = FLOAT. */
  data_type: number;
  /** Little-endian values in row-major order. */
  raw_data: Uint8Array;
  /** Models made elsewhere may keep values in a file beside the model: `location`, `offset`, `length`. */
  external_data?: { key: string; value: string }[];
  /** 1 = EXTERNAL (values in `external_data`'s file). */
  data_location?: number;
}

export interface OnnxAttribute {
  name: string;
  /** `AttributeProto.AttributeType`: 2 INT, 3 STRING, 7 INTS. */
  type: number;
  i?: number;
  s?: Uint8Array;
  ints?: number[];
}

export interface OnnxNode {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}

export interface OnnxDimension {
  dim_value?: number;
  dim_param?: string;
}

export interface OnnxValueInfo {
  name: string;
  doc_string?: string;
  type: { tensor_type: { elem_type: number; shape: { dim: OnnxDimension[] } } };
}

export interface OnnxGraph {
  name: string;
  doc_string?: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
}

export interface OnnxModel {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: OnnxGraph;
  metadata_props: { key: string; value: string }[];
}

export const ONNX_FLOAT = 1;
export const ATTRIBUTE_TYPE = { INT: 2, STRING: 3, INTS: 7 } as const;

const SCHEMA_FILE = fileURLToPath(new URL('../../../../resources/onnx/onnx-subset.proto', import.meta.url));

let modelType: protobuf.Type | null = null;

function modelProto(): protobuf.Type {
  modelType ??= new protobuf.Root().loadSync(SCHEMA_FILE, { keepCase: true }).lookupType('onnx.ModelProto');
  return modelType;
}

export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const type = modelProto();
  const problem = type.verify(model);
  if (problem) throw new Error(`ONNX model does not match the schema: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** Reads an .onnx file's bytes back into the same plain-object shape (64-bit integers as numbers). */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  const type = modelProto();
  return type.toObject(type.decode(bytes), { longs: Number, arrays: true }) as OnnxModel;
}
