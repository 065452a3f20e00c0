import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { encodeNpy } from '../../app/files/npy.js';
import { decodeNpy } from './npy.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { renderSyntheticSample } from '../../app/dataset/synthetic.js';
import { deriveSeed } from '../../app/random/prng.js';

/** Debian's python3-torch lives under the system python, not the pyenv one first on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const EXPORT_SCRIPT = fileURLToPath(new URL('../../../bench/pytorch/export_onnx.py', import.meta.url));

/** Why PyTorch cannot be used here, or null when `import torch` works. */
export async function pytorchUnavailable(): Promise<string | null> {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} not found (install python3-torch)`;
  try {
    await promisify(execFile)(SYSTEM_PYTHON, ['-c', 'import torch']);
    return null;
  } catch {
    return `${SYSTEM_PYTHON} cannot import torch (apt-get install python3-torch)`;
  }
}

/** Why Pillow (Debian's python3-pil, which the reference tools resize with) cannot be used, or null. */
export async function pillowUnavailable(): Promise<string | null> {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} not found (install python3-pil)`;
  try {
    await promisify(execFile)(SYSTEM_PYTHON, ['-c', 'import PIL']);
    return null;
  } catch {
    return `${SYSTEM_PYTHON} cannot import PIL (apt-get install python3-pil)`;
  }
}

/** N synthetic cell images (square, or width x height) as one uint8 stack (N,H,W) and their labels. */
export function syntheticStack(count: number, size: number | { width: number; height: number }, seed: number, classes: 2 | 3 = 2): { images: Uint8Array; labels: Uint8Array; shape: [number, number, number] } {
  const { width, height } = typeof size === 'number' ? { width: size, height: size } : size;
  const pixels = width * height;
  const images = new Uint8Array(count * pixels);
  const labels = new Uint8Array(count * pixels);
  for (let index = 0; index < count; index++) {
    const sample = renderSyntheticSample(deriveSeed(seed, index), width, height, classes);
    for (let p = 0; p < pixels; p++) images[index * pixels + p] = Math.round(255 * sample.image[p]!);
    labels.set(sample.labels, index * pixels);
  }
  return { images, labels, shape: [count, height, width] };
}

export interface PytorchExport {
  model: string;
  /** PyTorch's own predicted labels (N,H,W) for each of `predict`, in order. */
  predictions: { data: Uint8Array; shape: number[] }[];
}

/** A stack of images for the reference predict.py, at its --scale (default 1). */
export interface PredictSet {
  images: Uint8Array;
  shape: readonly number[];
  scale?: number;
}

/** Trains a small reference U-Net on synthetic cells with bench/pytorch/export_onnx.py and exports it. */
export async function exportPytorchUnet(
  dir: string,
  options: { base: number; bilinear: boolean; classes: 2 | 3; epochs: number; trainCount: number; size: number; learningRate?: number; predict?: readonly PredictSet[]; out?: string },
): Promise<PytorchExport> {
  const train = syntheticStack(options.trainCount, options.size, 11, options.classes);
  const imagesFile = path.join(dir, 'train-images.npy');
  const masksFile = path.join(dir, 'train-masks.npy');
  await writeFile(imagesFile, encodeNpy(train.images, train.shape));
  await writeFile(masksFile, encodeNpy(train.labels, train.shape));
  const model = options.out ?? path.join(dir, 'model.onnx');
  const args = [EXPORT_SCRIPT, '--images', imagesFile, '--masks', masksFile, '--out', model, '--classes', String(options.classes === 2 ? 1 : 3), '--base', String(options.base), '--epochs', String(options.epochs)];
  if (options.bilinear) args.push('--bilinear');
  if (options.learningRate !== undefined) args.push('--learning-rate', String(options.learningRate));
  const predictionFiles: string[] = [];
  for (const [index, set] of (options.predict ?? []).entries()) {
    const predictFile = path.join(dir, `predict-images-${index}.npy`);
    predictionFiles.push(path.join(dir, `predictions-${index}.npy`));
    await writeFile(predictFile, encodeNpy(set.images, set.shape));
    args.push('--predict', predictFile, '--predictions', predictionFiles[index]!, '--scale', String(set.scale ?? 1));
  }
  await promisify(execFile)(SYSTEM_PYTHON, args, { maxBuffer: 16 * 2 ** 20 });
  const predictions = await Promise.all(
    predictionFiles.map(async (file) => {
      const { data, shape } = decodeNpy(await readFile(file));
      if (!(data instanceof Uint8Array)) throw new Error(`${file}: expected uint8 labels`);
      return { data, shape };
    }),
  );
  return { model, predictions };
}
