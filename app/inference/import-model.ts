import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../contract/errors.js';
import type { ImportModelRequest, ModelDescription, ProviderReport } from '../contract/segmentation.js';
import { copyFileAtomic, writeFileAtomic } from '../files/atomic-write.js';
import { describeReadError } from '../files/file-errors.js';
import type { Project } from '../project/project.js';
import { describeOnnxFile, MODELS_FOLDER, type ModelSidecar, sidecarFile } from './model-files.js';

export interface ImportedModel {
  model: ModelDescription;
  provider: ProviderReport;
}

/**
 * Imports an ONNX segmentation model made elsewhere (e.g. torch.onnx.export of the reference U-Net):
 * reads its names, shapes and metadata, checks it on a dummy image, and stores it as
 * models/<name>.onnx with a `<name>.model.json` sidecar holding the classes and normalisation (from the
 * model's metadata or the options; an error lists what is missing) and how to size images for it. It is
 * then usable as `project:name`.
 */
export async function importExternalModel(project: Project, file: string, options: Omit<ImportModelRequest, 'project' | 'file'> = {}): Promise<ImportedModel> {
  const source = path.resolve(file);
  await fs.access(source).catch((err: unknown) => {
    throw describeReadError(source, err);
  });
  const name = options.name ?? path.basename(source).replace(/\.onnx$/i, '').replace(/[^\w.-]+/g, '_');
  const target = path.join(project.resolve(MODELS_FOLDER), `${name}.onnx`);
  if (await fs.stat(target).then(() => true, () => false)) {
    throw new AppError('conflict', `${project.name} already has a model named "${name}" (${target}); choose another name.`, { file: target });
  }
  const described = await describeOnnxFile(source, {
    name,
    ...(options.classes ? { classes: options.classes } : {}),
    ...(options.normalisation ? { normalisation: options.normalisation } : {}),
    ...(options.sizing ? { sizing: options.sizing } : {}),
    ...(options.resize ? { resize: options.resize } : {}),
  });
  const { description } = described;
  await fs.mkdir(path.dirname(target), { recursive: true });
  const sidecar: ModelSidecar = {
    name,
    importedFrom: source,
    importedAt: new Date().toISOString(),
    classes: description.classes,
    normalisation: description.normalisation,
    sizing: description.sizing,
    resize: description.resize,
  };
  await writeFileAtomic(sidecarFile(target), `${JSON.stringify(sidecar, null, 2)}\n`);
  await copyFileAtomic(source, target);
  return { model: { ...description, file: target }, provider: described.provider };
}
