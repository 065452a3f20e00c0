import { AppError } from '../../contract/errors.js';
import { ONNX_FLOAT, type OnnxModel, type OnnxValueInfo } from '../onnx/onnx-schema.js';
import { ProtoEnum, type ProtoMessage, toProtoText } from './proto-text.js';

/** Requests Triton may batch into one run (dynamic batching): U-Net inference batches of 1 to 8 images. */
export const TRITON_MAX_BATCH_SIZE = 8;

/** Model names are folder names in the repository: letters, digits, '_' and '-' here. */
export function tritonModelName(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'unet';
}

/**
 * config.pbtxt for an ONNX model on Triton's onnxruntime backend (field names from Triton's
 * model_config.proto: ModelConfig, ModelInput, ModelOutput, ModelDynamicBatching). Inputs and outputs
 * come from the graph itself; its first dimension is the batch (max_batch_size > 0, so `dims` leave it
 * out) and dynamic dimensions (height and width) are -1.
 */
export function tritonConfig(name: string, onnx: OnnxModel, maxBatchSize = TRITON_MAX_BATCH_SIZE): string {
  const tensor = (value: OnnxValueInfo): ProtoMessage => {
    const type = value.type.tensor_type;
    if (type.elem_type !== ONNX_FLOAT) throw new AppError('invalid_input', `Triton export: tensor "${value.name}" is not float32.`);
    const [, ...dims] = type.shape.dim.map((dim) => (dim.dim_value !== undefined ? Number(dim.dim_value) : -1));
    return { name: value.name, data_type: new ProtoEnum('TYPE_FP32'), dims };
  };
  const config: ProtoMessage = {
    name,
    backend: 'onnxruntime',
    max_batch_size: maxBatchSize,
    input: onnx.graph.input.map(tensor),
    output: onnx.graph.output.map(tensor),
    dynamic_batching: {},
  };
  return `${toProtoText(config)}\n`;
}
