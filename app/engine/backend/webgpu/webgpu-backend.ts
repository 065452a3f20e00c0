import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../../contract/errors.js';
import { registerBackendMemory } from '../../memory/backend-memory.js';
import { registerWebgpuTrainingKernels } from '../webgpu-kernels/index.js';
import type { DawnAdapter } from './dawn-adapter.js';
import { webgpuBackendMemory } from './webgpu-memory.js';

/**
 * Makes tfjs-backend-webgpu run on the adapter we chose and reported (its own factory would ask
 * for an adapter again), with our kernel fixes, and selects it.
 */
export async function startWebgpuBackend(dawn: DawnAdapter): Promise<boolean> {
  // Loaded while navigator.gpu is unset, so the package registers its kernels but not its own factory.
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  Object.assign(globalThis, dawn.globals);
  const { adapter } = dawn;
  const device = await adapter.requestDevice({ requiredLimits: requiredLimits(adapter.limits) });
  const failures = watchDeviceErrors(device);
  // WebGPUBackend's constructor checks that navigator.gpu exists.
  exposeGpu(dawn.gpu);
  const description = dawn.report.description || dawn.report.architecture;

  /**
   * WebGPU reports a failed kernel (an invalid pipeline, an allocation the device cannot satisfy)
   * as an event, and the kernel's output reads back as zeros. Every read checks for such an event
   * first, so a step fails with the GPU's message instead of training on garbage.
   */
  class CheckedWebGPUBackend extends WebGPUBackend {
    override async read(dataId: object): Promise<tf.backend_util.BackendValues> {
      const values = await super.read(dataId);
      const failure = failures.first();
      if (failure) throw new AppError('internal', `The GPU (${description}) reported an error, so the results are invalid: ${failure}`);
      return values;
    }

    override readSync(dataId: object): tf.backend_util.BackendValues {
      // tfjs reads GPU buffers synchronously through an OffscreenCanvas, which Node does not have.
      if (this.tensorMap.get(dataId).values == null) {
        throw new AppError('internal', 'The webgpu backend cannot read GPU memory synchronously in Node; read tensors with `await tensor.data()`.');
      }
      return super.readSync(dataId);
    }
  }

  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new CheckedWebGPUBackend(device, adapter.info));
  registerWebgpuTrainingKernels();
  registerBackendMemory('webgpu', () => webgpuBackendMemory(dawn.report));
  return tf.setBackend('webgpu');
}

/** The limits tfjs-backend-webgpu asks for, plus as many storage buffers per shader as the adapter allows. */
function requiredLimits(limits: GPUSupportedLimits): Record<string, number> {
  const names = [
    'maxBufferSize',
    'maxStorageBufferBindingSize',
    'maxStorageBuffersPerShaderStage',
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
  ] as const;
  return Object.fromEntries(names.map((name) => [name, limits[name]]));
}

/** Keeps the first error the device reports, in words. */
function watchDeviceErrors(device: GPUDevice): { first(): string | null } {
  let first: string | null = null;
  device.addEventListener('uncapturederror', (event) => {
    first ??= describeGpuError((event as GPUUncapturedErrorEvent).error);
  });
  void device.lost.then((info) => {
    first ??= `the GPU device was lost (${info.reason}): ${info.message}`;
  });
  return { first: () => first };
}

function describeGpuError(error: GPUError): string {
  const message = error.message.split('\n')[0]!;
  if (error instanceof GPUOutOfMemoryError) return `the GPU ran out of memory (${message}); use a smaller batch size, patch size or model`;
  if (error instanceof GPUValidationError) return `the GPU refused a kernel (${message})`;
  return `GPU error: ${message}`;
}

function exposeGpu(gpu: GPU): void {
  const holder = (globalThis as { navigator?: object }).navigator;
  // Node 21 and later (Electron's utility processes) have a navigator without gpu; Node 20 has none.
  if (holder) Object.defineProperty(holder, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}
