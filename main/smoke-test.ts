import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { renderSyntheticSample } from '../app/dataset/synthetic.js';
import { describeAdapter } from '../app/contract/describe-backend.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { loadDawn, requestDawnAdapter } from '../app/engine/backend/webgpu/dawn-adapter.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { SessionThread } from '../app/inference/session-thread.js';
import { sigmoidModel } from './onnx-sigmoid-model.js';

export interface SmokeResult {
  backend: string;
  /** The GPU Dawn offers for WebGPU training, or why there is none. */
  webgpu: string;
  onnxruntime: string;
  sharp: string;
  size: number;
  foregroundPixels: number;
  maskPngBytes: number;
  ms: number;
}

const SIZE = 64;

/**
 * `--smoke-test`: proves a packaged app can load its native parts and segment. A synthetic image
 * goes through sharp (PNG encode and decode), a small untrained U-Net on the tfjs backend gives
 * logits, onnxruntime-node turns them into probabilities on the inference thread segmentation uses
 * (a worker_threads script, which must load from the packaged app), and the thresholded mask is
 * encoded as PNG by sharp again. Dawn (dawn.node, unpacked from the asar) must load too; a machine
 * without a GPU only reports that it has no adapter. The numbers are not a quality measure, only
 * proof that each part ran.
 */
export async function runSmokeTest(): Promise<SmokeResult> {
  const started = performance.now();
  const sample = renderSyntheticSample(1, SIZE, SIZE, 2);
  const grey = Uint8Array.from(sample.image, (value) => Math.round(value * 255));
  const png = await sharp(grey, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer();
  const decoded = await sharp(png).extractChannel(0).raw().toBuffer();
  const input = Float32Array.from(decoded, (value) => value / 255);

  await loadDawn();
  const dawn = await requestDawnAdapter();
  const webgpu = 'problem' in dawn ? dawn.problem : describeAdapter(dawn.report);
  const backend = await initialiseBackend('auto');
  const model = buildUnet({ base: 8, upsampling: 'transpose', inputChannels: 1, classes: 2 });
  const logits = tf.tidy(() => model.predict(tf.tensor4d(input, [1, SIZE, SIZE, 1])) as tf.Tensor);
  const logitValues = (await logits.data()) as Float32Array;
  logits.dispose();
  model.dispose();

  const folder = await mkdtemp(path.join(os.tmpdir(), 'unet-studio-smoke-'));
  let probabilities: Float32Array;
  try {
    const modelFile = path.join(folder, 'sigmoid.onnx');
    await writeFile(modelFile, sigmoidModel());
    const session = await SessionThread.open(modelFile, 'cpu', 'x', 'y');
    probabilities = (await session.run(logitValues, [1, SIZE, SIZE, 1]).finally(() => session.release())).data;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }

  const mask = Uint8Array.from(probabilities, (p) => (p >= 0.5 ? 255 : 0));
  const maskPng = await sharp(mask, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer();
  return {
    backend: backend.name,
    webgpu,
    onnxruntime: ort.env.versions.common,
    sharp: sharp.versions.sharp ?? 'unknown',
    size: SIZE,
    foregroundPixels: mask.reduce((count, value) => count + (value ? 1 : 0), 0),
    maskPngBytes: maskPng.length,
    ms: Math.round(performance.now() - started),
  };
}
