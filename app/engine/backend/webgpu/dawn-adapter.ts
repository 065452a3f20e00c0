import type { GpuAdapterReport } from '../../../contract/training.js';
import { webgpuMemoryFacts } from './webgpu-memory.js';

/** Dawn's WebGPU entry point and the adapter it offered; `gpu` must stay referenced while its devices work. */
export interface DawnAdapter {
  gpu: GPU;
  adapter: GPUAdapter;
  /** The WebGPU interface objects (GPUBufferUsage, GPUMapMode, ...) that code written for browsers reads as globals. */
  globals: object;
  report: GpuAdapterReport;
}

/** The native GPU interface Dawn uses on each platform, named when it finds no adapter. */
const GPU_DRIVERS: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'Vulkan driver (Linux needs the Vulkan loader libvulkan.so.1, e.g. Debian\'s libvulkan1, and the GPU vendor\'s Vulkan driver)',
  win32: 'Direct3D 12 or Vulkan driver',
  darwin: 'Metal driver',
};

/** Software renderers by name, for drivers that do not call themselves fallback adapters. */
const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;

/**
 * Loads Dawn: the `webgpu` package, whose prebuilt dawn.node for each platform sits inside the
 * package and is found relative to its own files, so the CLI's trainer, the browser host's and
 * Electron's utility process (from the unpacked asar) all load it the same way. Throws when this
 * platform has no dawn.node or it does not load.
 */
export function loadDawn(): Promise<typeof import('webgpu')> {
  return import('webgpu');
}

/**
 * Asks Dawn for the high-performance adapter. Returns why not when Dawn does not load on this
 * platform or finds no adapter.
 */
export async function requestDawnAdapter(): Promise<DawnAdapter | { problem: string }> {
  let dawn: typeof import('webgpu');
  try {
    dawn = await loadDawn();
  } catch (err) {
    return { problem: `Dawn (the webgpu package) did not load on ${process.platform}-${process.arch}: ${firstLine(err)}` };
  }
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { problem: `no WebGPU adapter: Dawn found no GPU with a working ${GPU_DRIVERS[process.platform] ?? 'native GPU driver'}` };
  return { gpu, adapter, globals: dawn.globals, report: adapterReport(adapter) };
}

/** The adapter as the run report shows it; Dawn flags CPU adapters (its adapter type "cpu") as fallback adapters. */
export function adapterReport(adapter: GPUAdapter): GpuAdapterReport {
  const { vendor, architecture, device, description, isFallbackAdapter } = adapter.info;
  const { maxBufferBytes, maxStorageBindingBytes, deviceMemoryBytes } = webgpuMemoryFacts(adapter.limits);
  const software = isFallbackAdapter === true || SOFTWARE_RENDERERS.test([vendor, architecture, device, description].join(' '));
  return { vendor, architecture, device, description, software, maxBufferBytes, maxStorageBindingBytes, deviceMemoryBytes };
}

/** Why `auto` passes over a software adapter; forcing webgpu uses it anyway. */
export function softwareAdapterReason(report: GpuAdapterReport): string {
  return `the WebGPU adapter Dawn offers, ${report.description || report.architecture}, is software (a CPU emulating a GPU, slower than the CPU backends); choose webgpu explicitly to use it anyway`;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
