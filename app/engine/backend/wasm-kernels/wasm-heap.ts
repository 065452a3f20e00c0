/// <reference path="../wasm-simd/webassembly.d.ts" />
import type * as tf from '@tensorflow/tfjs';

/**
 * The parts of tfjs-backend-wasm's BackendWasm that kernels written in JavaScript need: its
 * memory and where each tensor lives in it. A tensor's offset is fixed for its life, but the
 * memory's views are replaced whenever the heap grows, so `heap()` must be called again after
 * anything that may allocate (making an output, running another kernel).
 */
interface BackendWasmInternals extends tf.KernelBackend {
  // The single-threaded build exports its memory (asm.memory); the multi-threaded build creates a
  // shared one itself and keeps it as wasmMemory.
  wasm: {
    HEAPF32: Float32Array;
    HEAP32: Int32Array;
    wasmMemory?: WebAssembly.Memory;
    asm: { memory?: WebAssembly.Memory };
    tfjs: { disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number }; delete(dataId: tf.DataId): void };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
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

  /** The whole heap as int32s; valid until the next allocation. */
  int32Heap(): Int32Array {
    return this.backend.wasm.HEAP32;
  }

  /** The backend's wasm memory itself, for other wasm modules to work on its tensors in place. */
  memory(): WebAssembly.Memory {
    const memory = this.backend.wasm.wasmMemory ?? this.backend.wasm.asm.memory;
    if (memory === undefined) throw new Error('The wasm backend does not expose its memory (tfjs-backend-wasm changed how it builds).');
    return memory;
  }

  /** Where a tensor's data starts, in bytes from the start of the heap. */
  byteOffsetOf(tensor: tf.TensorInfo): number {
    return this.backend.dataIdMap.get(tensor.dataId).memoryOffset;
  }

  /** Index of a float32 tensor's first element in `heap()`. */
  offsetOf(tensor: tf.TensorInfo): number {
    return this.byteOffsetOf(tensor) / Float32Array.BYTES_PER_ELEMENT;
  }

  /**
   * A float32 tensor over part of another tensor's memory, from element `start` on, for kernels
   * that take a slice without copying it. It must be let go with `releaseView`, never disposed:
   * disposing would free memory the view does not own.
   */
  view(tensor: tf.TensorInfo, start: number, shape: number[]): tf.TensorInfo {
    return this.backend.makeOutput(shape, 'float32', this.byteOffsetOf(tensor) + start * Float32Array.BYTES_PER_ELEMENT);
  }

  releaseView(view: tf.TensorInfo): void {
    const { id } = this.backend.dataIdMap.get(view.dataId);
    this.backend.wasm.tfjs.disposeData(id);
    this.backend.dataIdMap.delete(view.dataId);
  }

  /** A new, uninitialised tensor on the backend; the caller fills it. */
  allocate(shape: number[], dtype: 'float32' | 'int32' = 'float32'): tf.TensorInfo {
    return this.backend.makeOutput(shape, dtype);
  }
}
