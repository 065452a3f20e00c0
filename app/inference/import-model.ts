import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../contract/errors.js';
import { SAFE_NAME, toSafeName } from '../contract/schemas.js';
import type { ImportModelRequest, ModelDescription, ProviderReport } from '../contract/segmentation.js';
import { decodeOnnxModel } from '../export/onnx/onnx-schema.js';
import { copyFileAtomic, writeFileAtomic } from '../files/atomic-write.js';
import { makeFolder } from '../files/make-folder.js';
import { DATA_FILE, readRegularFile } from '../files/regular-file.js';
import type { Project } from '../project/project.js';
import { describeOnnxFile, ModelSidecar, sidecarFile } from './model-files.js';
import { MODELS_FOLDER } from './project-models.js';

export interface ImportedModel {
  model: ModelDescription;
  provider: ProviderReport;
}

/** ONNX's TensorProto.DataLocation.EXTERNAL: the values are in a file beside the model. */
const EXTERNAL = 1;

/**
 * Imports an ONNX segmentation model made elsewhere (e.g. torch.onnx.export of the reference U-Net):
 * reads its names, shapes and metadata, checks it on a dummy image, and stores it as
 * models/<name>.onnx with a `<name>.model.json` sidecar holding the classes and normalisation (from the
 * model's metadata or the options; an error lists what is missing) and how to size images for it.
 * Weights the model keeps in external data files are copied beside it. It is then usable as
 * `project:name`.
 */
export async function importExternalModel(project: Project, file: string, options: Omit<ImportModelRequest, 'project' | 'file'> = {}): Promise<ImportedModel> {
  const source = path.resolve(file);
  const name = options.name ?? toSafeName(path.basename(source).replace(/\.onnx$/i, ''), 'model');
  const target = await project.resolve(`${MODELS_FOLDER}/${name}.onnx`);
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
  const sidecar = ModelSidecar.parse({
    name,
    importedFrom: source,
    importedAt: new Date().toISOString(),
    classes: description.classes,
    normalisation: description.normalisation,
    sizing: description.sizing,
    resize: description.resize,
  });
  const externalFiles = await externalDataFiles(source);
  const copies = await Promise.all(externalFiles.map(async (location) => ({ from: path.join(path.dirname(source), ...location.split('/')), to: await project.resolve(`${MODELS_FOLDER}/${location}`) })));
  for (const copy of copies) await assertFreeOrSame(copy.from, copy.to, source);
  await makeFolder(path.dirname(target));
  await writeFileAtomic(sidecarFile(target), `${JSON.stringify(sidecar, null, 2)}\n`);
  // The weights first: the model appears last, so it never exists without them.
  for (const copy of copies) {
    await makeFolder(path.dirname(copy.to));
    await copyFileAtomic(copy.from, copy.to);
  }
  await copyFileAtomic(source, target);
  return { model: { ...description, file: target }, provider: described.provider };
}

/** The files (relative to the model's folder) that hold its external data; refused unless they stay inside that folder. */
async function externalDataFiles(model: string): Promise<string[]> {
  const graph = decodeOnnxModel(await readRegularFile(model, DATA_FILE)).graph;
  const locations = new Set<string>();
  for (const tensor of graph.initializer) {
    if (tensor.data_location !== EXTERNAL) continue;
    const location = tensor.external_data?.find((entry) => entry.key === 'location')?.value ?? '';
    if (!location.split('/').every((segment) => SAFE_NAME.test(segment))) {
      throw new AppError('invalid_input', `${model}: its weights "${tensor.name}" are in "${location}", which is not a file beside the model; only external data files in the model's own folder can be imported.`, { file: model, location });
    }
    locations.add(location);
  }
  return [...locations];
}

/** An external data file may share a name with one of another imported model only when it is the same file. */
async function assertFreeOrSame(from: string, to: string, model: string): Promise<void> {
  const existing = await fs.stat(to).catch(() => null);
  if (!existing) return;
  const [ours, theirs] = await Promise.all([readRegularFile(from, DATA_FILE), readRegularFile(to, DATA_FILE)]);
  if (!ours.equals(theirs)) {
    throw new AppError('conflict', `${model}: its weights file ${path.basename(from)} would replace ${to}, which another imported model uses; save the model with another external data name (or as one file) and import it again.`, { file: to });
  }
}
