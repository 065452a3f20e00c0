import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { SegmentRequest } from '../app/contract/segmentation.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { segmentBatch } from '../app/inference/batch-segment.js';
import { loadModelSpec } from '../app/inference/model-files.js';
import { createRandom } from '../app/random/prng.js';
import type { BenchResult } from './bench-result.js';
import { ensurePyTorch, runPythonBench } from './python-reference.js';

const IMAGES = 32;
const SIZE = 512;
const BASE = 16;
/** Every side is warmed up with one run of this size, as the PyTorch loop is. */
const WARM_UP = 64;

/**
 * A folder of 512x512 images through U-Net Studio end to end (decode, infer, encode PNG) and
 * through the PyTorch predict loop, with the same weights (PyTorch trains the model briefly and
 * exports it, so both write realistic masks);
 * plus the raw onnxruntime session on the same tensors, the ceiling of our pipeline.
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

    const request = SegmentRequest.parse({ model: onnxFile, inputs: [data.imagesDir], output: path.join(dir, 'ours'), classes: ['cell'], normalisation: 'unit', tile: SIZE });
    // Loaded first, like the PyTorch model and the raw session: the timings compare per-image work.
    const model = await loadModelSpec(onnxFile, { classes: ['cell'], normalisation: 'unit' });
    await model.session.run(new Float32Array(WARM_UP * WARM_UP), [1, 1, WARM_UP, WARM_UP]);
    const started = performance.now();
    const report = await segmentBatch(request, { model }).finally(() => model.session.release());
    const oursImagesPerSecond = report.segmented.length / ((performance.now() - started) / 1000);

    const rawImagesPerSecond = await rawSessionThroughput(onnxFile);
    const vsPyTorch = oursImagesPerSecond / torch.imagesPerSecond;
    const ofCeiling = oursImagesPerSecond / rawImagesPerSecond;
    return {
      name: 'segment-speed',
      figures: {
        workload: `${IMAGES} PNG images ${SIZE}x${SIZE}, U-Net base ${BASE}`,
        provider: report.provider.name,
        pytorchThreads: torch.threads,
        oursImagesPerSecond: round(oursImagesPerSecond),
        pytorchImagesPerSecond: round(torch.imagesPerSecond),
        rawSessionImagesPerSecond: round(rawImagesPerSecond),
        ratioVsPyTorch: round(vsPyTorch),
        fractionOfRawSession: round(ofCeiling),
      },
      goals: { ratioVsPyTorchAtLeast: 2.5, fractionOfRawSessionAtLeast: 0.85, met: vsPyTorch >= 2.5 && ofCeiling >= 0.85 },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** session.run alone on ready tensors of the same size, one image per run as the pipeline sends. */
async function rawSessionThroughput(onnxFile: string): Promise<number> {
  const session = await ort.InferenceSession.create(onnxFile, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const random = createRandom(1);
  const input = new ort.Tensor('float32', Float32Array.from({ length: SIZE * SIZE }, () => random.next()), [1, 1, SIZE, SIZE]);
  await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(WARM_UP * WARM_UP), [1, 1, WARM_UP, WARM_UP]) });
  const started = performance.now();
  for (let i = 0; i < IMAGES; i++) await session.run({ [session.inputNames[0]!]: input });
  const seconds = (performance.now() - started) / 1000;
  await session.release();
  return IMAGES / seconds;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
