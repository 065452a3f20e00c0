import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../contract/errors.js';
import { writeFileAtomic } from '../../files/atomic-write.js';
import type { ScheduleState } from '../training/lr-schedule.js';
import { DATA_FILE, readRegularFile } from '../../files/regular-file.js';

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** Everything needed to continue a run exactly where its last finished epoch left it. */
export interface CheckpointState {
  epoch: number;
  randomState: number;
  schedule: ScheduleState;
  bestEpoch: number | null;
  bestValDice: number | null;
}

export interface Checkpoint extends CheckpointState {
  model: NamedTensor[];
  optimizer: NamedTensor[];
}

interface TensorRecord {
  name: string;
  group: 'model' | 'optimizer';
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  length: number;
}

const MAGIC = 'UNCK';
const FORMAT_VERSION = 1;

/**
 * One self-describing file: magic, header length, JSON header (state + tensor index), then the raw
 * tensor data. Written atomically with the previous checkpoint kept as .bak, so a crash mid-write
 * costs at most the epoch in progress.
 */
export async function saveCheckpoint(file: string, checkpoint: Checkpoint): Promise<void> {
  const records: TensorRecord[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const add = async (group: TensorRecord['group'], named: NamedTensor[]) => {
    for (const { name, tensor } of named) {
      const dtype = tensor.dtype === 'int32' ? 'int32' : 'float32';
      const values = dtype === 'int32' ? Int32Array.from(await tensor.data()) : Float32Array.from(await tensor.data());
      const bytes = new Uint8Array(values.buffer);
      records.push({ name, group, shape: tensor.shape, dtype, offset, length: bytes.length });
      chunks.push(bytes);
      offset += bytes.length;
    }
  };
  await add('model', checkpoint.model);
  await add('optimizer', checkpoint.optimizer);
  const { model: _model, optimizer: _optimizer, ...state } = checkpoint;
  const header = Buffer.from(JSON.stringify({ version: FORMAT_VERSION, state, tensors: records }));
  const prefix = Buffer.alloc(8);
  prefix.write(MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(header.length, 4);
  await writeFileAtomic(file, Buffer.concat([prefix, header, ...chunks]), { keepBackup: true });
}

/** Reads a checkpoint; the caller owns (and disposes) the returned tensors. */
export async function loadCheckpoint(file: string): Promise<Checkpoint> {
  const bytes = await readRegularFile(file, DATA_FILE);
  const corrupt = (problem: string) => new AppError('invalid_project', `${file}: damaged checkpoint (${problem}).`, { file });
  if (bytes.length < 8 || bytes.toString('ascii', 0, 4) !== MAGIC) throw corrupt('not a U-Net Studio checkpoint');
  const headerLength = bytes.readUInt32LE(4);
  if (8 + headerLength > bytes.length) throw corrupt('truncated header');
  let header: { version: number; state: CheckpointState; tensors: TensorRecord[] };
  try {
    header = JSON.parse(bytes.toString('utf8', 8, 8 + headerLength));
  } catch {
    throw corrupt('unreadable header');
  }
  if (header.version !== FORMAT_VERSION) throw corrupt(`format ${header.version} is not supported`);
  const dataStart = 8 + headerLength;
  const model: NamedTensor[] = [];
  const optimizer: NamedTensor[] = [];
  for (const record of header.tensors) {
    const start = dataStart + record.offset;
    if (start + record.length > bytes.length) throw corrupt(`tensor ${record.name} is cut off`);
    const copy = bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + record.length);
    const values = record.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    (record.group === 'model' ? model : optimizer).push({ name: record.name, tensor: tf.tensor(values, record.shape, record.dtype) });
  }
  return { ...header.state, model, optimizer };
}
