import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { renderSyntheticSample } from '../app/dataset/synthetic.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { sigmoidModel } from './onnx-sigmoid-model.js';

export interface SmokeResult {
  backend: string;
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
 * logits, onnxruntime-node turns them into probabilities, and the thresholded mask is encoded as
 * PNG by sharp again. The numbers are not a quality measure, only proof that each part ran.
 */
export async function runSmokeTest(): Promise<SmokeResult> {
  const started = performance.now();
  const sample = renderSyntheticSample(1, SIZE, SIZE, 2);
  const grey = Uint8Array.from(sample.image, (value) => Math.round(value * 255));
  const png = await sharp(grey, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer();
  const decoded = await sharp(png).extractChannel(0).raw().toBuffer();
  const input = Float32Array.from(decoded, (value) => value / 255);

  const backend = await initialiseBackend('auto');
  const model = buildUnet({ base: 8, upsampling: 'transpose', inputChannels: 1, classes: 2 });
  const logits = tf.tidy(() => model.predict(tf.tensor4d(input, [1, SIZE, SIZE, 1])) as tf.Tensor);
  const logitValues = (await logits.data()) as Float32Array;
  logits.dispose();
  model.dispose();

  const session = await ort.InferenceSession.create(sigmoidModel());
  const output = await session.run({ x: new ort.Tensor('float32', logitValues, [1, SIZE, SIZE, 1]) });
  const probabilities = output.y!.data as Float32Array;
  await session.release();

  const mask = Uint8Array.from(probabilities, (p) => (p >= 0.5 ? 255 : 0));
  const maskPng = await sharp(mask, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer();
  return {
    backend: backend.name,
    onnxruntime: ort.env.versions.common,
    sharp: sharp.versions.sharp ?? 'unknown',
    size: SIZE,
    foregroundPixels: mask.reduce((count, value) => count + (value ? 1 : 0), 0),
    maskPngBytes: maskPng.length,
    ms: Math.round(performance.now() - started),
  };
}
