import type { GpuAdapterReport } from '../../../contract/training.js';
import { type BackendMemory, formatGiB } from '../../memory/backend-memory.js';
import { WASM_STEP_MEMORY } from '../../memory/step-memory.js';

/** What bounds memory on a WebGPU adapter, for a memory planner. */
export interface WebgpuMemoryFacts extends Pick<GpuAdapterReport, 'maxBufferBytes' | 'maxStorageBindingBytes' | 'deviceMemoryBytes'> {
  /** The most float32 elements one tensor may hold: tfjs-backend-webgpu keeps each in one buffer. */
  largestTensorElements: number;
  /** Where the device memory figure came from, or why there is none. */
  deviceMemorySource: string;
}

const FLOAT32_BYTES = 4;

/**
 * The memory facts of a WebGPU adapter. tfjs-backend-webgpu holds every tensor in one GPU buffer and
 * binds a kernel's inputs and output as storage buffers, so no tensor may be larger than either
 * limit; a larger one fails as a GPU validation error. How much memory the device has is not known:
 * WebGPU exposes no such figure, and the `webgpu` package's Dawn binding gives only the adapter's
 * vendor, architecture, device, description and limits. A planner therefore has to budget the total
 * itself; an allocation the device cannot satisfy fails the step as a GPU out-of-memory error.
 */
export function webgpuMemoryFacts(limits: Pick<GPUSupportedLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>): WebgpuMemoryFacts {
  const maxBufferBytes = limits.maxBufferSize;
  const maxStorageBindingBytes = limits.maxStorageBufferBindingSize;
  return {
    maxBufferBytes,
    maxStorageBindingBytes,
    largestTensorElements: Math.floor(Math.min(maxBufferBytes, maxStorageBindingBytes) / FLOAT32_BYTES),
    deviceMemoryBytes: null,
    deviceMemorySource: 'not exposed: WebGPU and the webgpu package (Dawn) report no device memory size',
  };
}

/**
 * What the batch planner gets for webgpu: the adapter's per-tensor bound, which it keeps by
 * splitting batches into micro-batches. WebGPU does not tell the device's total memory, so beyond
 * that bound batches run as asked and a step that does not fit fails with the GPU's out-of-memory
 * message. The step's memory model is the wasm one, not
 * yet measured on a GPU.
 */
export function webgpuBackendMemory(report: GpuAdapterReport): BackendMemory {
  const { largestTensorElements } = webgpuMemoryFacts({ maxBufferSize: report.maxBufferBytes, maxStorageBufferBindingSize: report.maxStorageBindingBytes });
  return {
    limitBytes: null,
    largestTensorBytes: largestTensorElements * FLOAT32_BYTES,
    limitReason: `WebGPU does not report ${report.description || 'the adapter'}'s memory, so batches run as asked; no one tensor may pass ${formatGiB(largestTensorElements * FLOAT32_BYTES)} (the adapter's maxBufferSize and maxStorageBufferBindingSize)`,
    model: WASM_STEP_MEMORY,
    measured: false,
  };
}
