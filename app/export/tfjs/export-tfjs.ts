import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { saveLayersModel } from '../../engine/model/model-files.js';

/** The files `saveLayersModel` writes. */
const TFJS_FILES = ['model.json', 'weights.bin'];

/**
 * Writes the model in the TF.js layers format into `dir` (model.json + weights.bin, loadable with
 * `tf.loadLayersModel`), keeping U-Net Studio's metadata; returns the files' paths.
 */
export async function exportTfjs(model: tf.LayersModel, dir: string, metadata: Record<string, unknown>): Promise<string[]> {
  await saveLayersModel(model, dir, metadata);
  return TFJS_FILES.map((file) => path.join(dir, file));
}
