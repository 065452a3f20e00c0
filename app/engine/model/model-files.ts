import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../contract/errors.js';
import { writeFileAtomic } from '../../files/atomic-write.js';
import { makeFolder } from '../../files/make-folder.js';
import { DATA_FILE, readRegularFile, readRegularText } from '../../files/regular-file.js';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/**
 * Saves a model in the TF.js layers format (model.json + weights.bin, loadable anywhere with
 * `tf.loadLayersModel`), with U-Net Studio's own facts in `userDefinedMetadata`. The weights are
 * written before the model.json that points at them, each atomically.
 */
export async function saveLayersModel(model: tf.LayersModel, dir: string, metadata: Record<string, unknown>): Promise<void> {
  await makeFolder(dir);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      const buffers = weightData === undefined ? [] : Array.isArray(weightData) ? weightData : [weightData];
      await writeFileAtomic(path.join(dir, WEIGHTS_BIN), Buffer.concat(buffers.map((buffer) => new Uint8Array(buffer))));
      const modelJson = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
        userDefinedMetadata: metadata,
      };
      await writeFileAtomic(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

export interface LoadedModel {
  model: tf.LayersModel;
  metadata: Record<string, unknown>;
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

async function readModelJson(dir: string): Promise<ModelJson> {
  const jsonFile = path.join(dir, MODEL_JSON);
  const text = await readRegularText(jsonFile);
  try {
    return JSON.parse(text) as ModelJson;
  } catch {
    throw new AppError('invalid_project', `${jsonFile}: not valid JSON.`, { file: jsonFile });
  }
}

/** The model's U-Net Studio metadata without loading its weights. */
export async function readModelMetadata(dir: string): Promise<Record<string, unknown>> {
  return (await readModelJson(dir)).userDefinedMetadata ?? {};
}

export async function loadLayersModel(dir: string): Promise<LoadedModel> {
  const json = await readModelJson(dir);
  const weights = await readRegularFile(path.join(dir, WEIGHTS_BIN), DATA_FILE);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
  return { model, metadata: json.userDefinedMetadata ?? {} };
}
