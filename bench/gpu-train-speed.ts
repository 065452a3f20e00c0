import type { GpuAdapterReport } from '../app/contract/training.js';
import { runNodeBench } from './bench-child.js';
import type { BenchResult } from './bench-result.js';
import { runPythonBench } from './python-reference.js';

/** The REFERENCE.md model; 128 px is the CPU bench's size, 512 px a size users train at on a GPU. */
const BASE = 16;
const BATCH = 4;
const DEFAULT_SIZES = [128, 512];
const DEFAULT_WARMUP = 3;
const DEFAULT_STEPS = 10;

interface Throughput {
  imagesPerSecond: number;
  stepSeconds: number;
}

/**
 * Training steps per second of the same U-Net on our webgpu backend and in PyTorch on CUDA, at each
 * size, on a machine with a GPU (bench/gpu/run-on-device.sh sets it up). Goal: webgpu >= 0.5x
 * PyTorch CUDA. Run by bench/gpu/measure.ts, not by `npm run bench`. UNET_BENCH_GPU_SIZES (e.g. "32"),
 * UNET_BENCH_GPU_STEPS (timed steps; as many warm-up steps, at most 3) and UNET_BENCH_PYTHON (the
 * interpreter with PyTorch) change the sizes, steps and Python; UNET_BENCH_TORCH_DEVICE=cpu lets the script's own
 * steps be checked on a machine without CUDA, where no goal can be met.
 */
export async function benchGpuTrainSpeed(): Promise<BenchResult> {
  const sizes = process.env.UNET_BENCH_GPU_SIZES?.split(',').map(Number) ?? DEFAULT_SIZES;
  const torchDevice = process.env.UNET_BENCH_TORCH_DEVICE ?? 'cuda';
  const steps = Number(process.env.UNET_BENCH_GPU_STEPS ?? DEFAULT_STEPS);
  const warmup = Math.min(DEFAULT_WARMUP, steps);
  const figures: BenchResult['figures'] = { model: `U-Net base ${BASE}, batch ${BATCH}` };
  let worstRatio = Number.POSITIVE_INFINITY;
  let adapter: GpuAdapterReport | null = null;
  for (const size of sizes) {
    const ours = await runNodeBench<Throughput & { adapter: GpuAdapterReport | null }>('train-speed-child.js', [String(BASE), String(size), String(BATCH), String(warmup), String(steps), '0', 'webgpu']);
    adapter = ours.adapter;
    const torch = await runPythonBench<Throughput & { torch: string; device: string }>(
      'train_speed.py',
      ['--base', String(BASE), '--size', String(size), '--batch', String(BATCH), '--warmup', String(warmup), '--steps', String(steps), '--device', torchDevice],
      process.env.UNET_BENCH_PYTHON,
    );
    const ratio = ours.imagesPerSecond / torch.imagesPerSecond;
    worstRatio = Math.min(worstRatio, ratio);
    figures[`webgpuImagesPerSecond${size}`] = round(ours.imagesPerSecond);
    figures[`pytorchImagesPerSecond${size}`] = round(torch.imagesPerSecond);
    figures[`ratio${size}`] = round(ratio);
    figures.pytorch = `${torch.torch} on ${torch.device}`;
  }
  figures.adapter = adapter ? `${adapter.description} (${adapter.vendor} ${adapter.architecture}${adapter.software ? ', software' : ''})` : 'none';
  figures.maxBufferBytes = adapter?.maxBufferBytes ?? 0;
  figures.maxStorageBindingBytes = adapter?.maxStorageBindingBytes ?? 0;
  // Only a hardware adapter against PyTorch on CUDA can meet the goal.
  const comparable = adapter !== null && !adapter.software && torchDevice === 'cuda';
  return { name: 'gpu-train-speed', figures, goals: { ratioAtLeast: 0.5, met: comparable && worstRatio >= 0.5 } };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
