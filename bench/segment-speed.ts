import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { runNodeBench } from './bench-child.js';
import type { BenchResult } from './bench-result.js';
import { ensurePyTorch, runPythonBench } from './python-reference.js';

const IMAGES = 64;
const SIZE = 512;
const BASE = 16;
/** Every side is warmed up with one run of this size, as the PyTorch loop is. */
const WARM_UP = 64;

/**
 * A folder of 512x512 images through U-Net Studio end to end (decode, infer, encode PNG) and
 * through the PyTorch predict loop, with the same weights (PyTorch trains the model briefly and
 * exports it, so both write realistic masks); plus the raw onnxruntime session on the same tensors,
 * the ceiling of our pipeline: the better of one session on every core and the pipeline's layout of
 * several sessions side by side (both are reported). Each side runs in a fresh process (bench/segment-speed-child.ts).
 * Goals: >= 2.5x PyTorch and >= 85% of the raw session.
 */
export async function benchSegmentSpeed(): Promise<BenchResult> {
  ensurePyTorch();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unet-bench-segment-'));
  try {
    const data = await generateSynthetic({ outDir: dir, count: IMAGES, width: SIZE, height: SIZE, seed: 5 });
    const onnxFile = path.join(dir, 'reference-unet.onnx');
    const threads = os.availableParallelism();
    const torch = await runPythonBench<{ imagesPerSecond: number; threads: number }>('predict_speed.py', [
      '--input', data.imagesDir, '--masks', data.masksDir, '--output', path.join(dir, 'pytorch-masks'), '--onnx', onnxFile, '--base', String(BASE), '--threads', String(threads),
    ]);

    const { oursImagesPerSecond, rawImagesPerSecond, oneSessionImagesPerSecond, layoutImagesPerSecond, sessions, provider } = await runNodeBench<{
      oursImagesPerSecond: number;
      rawImagesPerSecond: number;
      oneSessionImagesPerSecond: number;
      layoutImagesPerSecond: number;
      sessions: number;
      provider: string;
    }>('segment-speed-child.js', [
      data.imagesDir, path.join(dir, 'ours'), onnxFile, String(SIZE), String(WARM_UP),
    ]);
    const vsPyTorch = oursImagesPerSecond / torch.imagesPerSecond;
    const ofCeiling = oursImagesPerSecond / rawImagesPerSecond;
    return {
      name: 'segment-speed',
      figures: {
        workload: `${IMAGES} PNG images ${SIZE}x${SIZE}, U-Net base ${BASE}`,
        provider,
        pytorchThreads: torch.threads,
        oursImagesPerSecond: round(oursImagesPerSecond),
        pytorchImagesPerSecond: round(torch.imagesPerSecond),
        rawSessionImagesPerSecond: round(rawImagesPerSecond),
        rawOneSessionAllCoresImagesPerSecond: round(oneSessionImagesPerSecond),
        rawPipelineLayoutImagesPerSecond: round(layoutImagesPerSecond),
        pipelineSessions: sessions,
        ratioVsPyTorch: round(vsPyTorch),
        fractionOfRawSession: round(ofCeiling),
      },
      goals: { ratioVsPyTorchAtLeast: 2.5, fractionOfRawSessionAtLeast: 0.85, met: vsPyTorch >= 2.5 && ofCeiling >= 0.85 },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
