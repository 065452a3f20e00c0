import { promises as fs } from 'node:fs';
import { AppError } from '../contract/errors.js';
import { SAFE_NAME } from '../contract/schemas.js';
import { RunFolder } from '../engine/runs/run-store.js';
import type { Project } from '../project/project.js';

/** Imported models (`<name>.onnx` + sidecar) and run models exported for inference (`run-<id>.onnx`). */
export const MODELS_FOLDER = 'models';

/** The .onnx file of a model imported under `name`, or null when the name cannot be one. */
export async function importedModelFile(project: Project, name: string): Promise<string | null> {
  return SAFE_NAME.test(name) ? project.resolve(`${MODELS_FOLDER}/${name}.onnx`) : null;
}

export async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then((stats) => stats.isFile(), () => false);
}

/** Refuses a model name the project does not have: neither an imported model nor a run with a trained model. */
export async function assertProjectModel(project: Project, name: string): Promise<void> {
  const imported = await importedModelFile(project, name);
  if (imported && (await isFile(imported))) return;
  const run = await RunFolder.open(project, name).catch((err: unknown) => {
    if (err instanceof AppError && (err.code === 'not_found' || err.code === 'invalid_input')) return null;
    throw err;
  });
  if (!run?.summary.modelPath) throw new AppError('not_found', `Project ${project.name} has no model "${name}": neither a run with a trained model nor an imported model (${MODELS_FOLDER}/${name}.onnx).`);
}
