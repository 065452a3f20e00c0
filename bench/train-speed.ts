import { runNodeBench } from './bench-child.js';
import type { BenchResult } from './bench-result.js';
import { ensurePyTorch, runPythonBench } from './python-reference.js';

/** The REFERENCE.md shape: base 16, 128x128, batch 4. */
const BASE = 16;
const SIZE = 128;
const BATCH = 4;
const WARMUP = 2;
const STEPS = 6;

interface Throughput {
  imagesPerSecond: number;
  stepSeconds: number;
  threads: number | null;
}

/**
 * Training steps per second of the same U-Net in U-Net Studio (the backend `auto` picks) and in
 * PyTorch CPU, with PyTorch held to the thread count our backend uses. Goal: ours >= 0.5x PyTorch.
 */
export async function benchTrainSpeed(): Promise<BenchResult> {
  ensurePyTorch();
  const ours = await runNodeBench<Throughput & { backend: string }>('train-speed-child.js', [String(BASE), String(SIZE), String(BATCH), String(WARMUP), String(STEPS)]);
  const threads = ours.threads ?? 1;
  const torch = await runPythonBench<Throughput & { torch: string }>('train_speed.py', [
    '--base', String(BASE), '--size', String(SIZE), '--batch', String(BATCH), '--threads', String(threads), '--warmup', String(WARMUP), '--steps', String(STEPS),
  ]);
  const ratio = ours.imagesPerSecond / torch.imagesPerSecond;
  return {
    name: 'train-speed',
    figures: {
      model: `U-Net base ${BASE}, ${SIZE}x${SIZE}, batch ${BATCH}`,
      oursBackend: ours.backend,
      threads,
      oursImagesPerSecond: round(ours.imagesPerSecond),
      pytorchImagesPerSecond: round(torch.imagesPerSecond),
      pytorchVersion: torch.torch,
      ratio: round(ratio),
    },
    goals: { ratioAtLeast: 0.5, met: ratio >= 0.5 },
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
