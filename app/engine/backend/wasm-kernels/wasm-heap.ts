import type * as tf from '@tensorflow/tfjs';

/**
 * The parts of tfjs-backend-wasm's BackendWasm that kernels written in JavaScript need: its
 * memory and where each tensor lives in it. A tensor's offset is fixed for its life, but the
 * memory's views are replaced whenever the heap grows, so `heap()` must be called again after
 * anything that may allocate (making an output, running another kernel).
 */
interface BackendWasmInternals extends tf.KernelBackend {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

export class WasmHeap {
  private readonly backend: BackendWasmInternals;

  constructor(backend: tf.KernelBackend) {
    this.backend = backend as BackendWasmInternals;
  }

  /** The whole heap as float32s; valid until the next allocation. */
  heap(): Float32Array {
    return this.backend.wasm.HEAPF32;
  }

  /** Index of a float32 tensor's first element in `heap()`. */
  offsetOf(tensor: tf.TensorInfo): number {
    return this.backend.dataIdMap.get(tensor.dataId).memoryOffset / Float32Array.BYTES_PER_ELEMENT;
  }

  /** A new, uninitialised float32 tensor on the backend; the caller fills it. */
  allocate(shape: number[]): tf.TensorInfo {
    return this.backend.makeOutput(shape, 'float32');
  }
}
