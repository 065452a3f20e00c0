import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../contract/errors.js';
import { ClassDef, SAFE_NAME_RULE } from '../contract/schemas.js';
import { type ModelDescription, Normalisation, ResizeRule } from '../contract/segmentation.js';
import { InputSizing } from '../contract/training.js';
import { RUNS_FOLDER, RunFolder } from '../engine/runs/run-store.js';
import { exportModel } from '../export/export-model.js';
import { Project } from '../project/project.js';
import { projectFile } from '../project/project-layout.js';
import { describeOnnxModel, type ModelHints } from './describe-model.js';
import { MODELS_FOLDER, importedModelFile, isFile } from './project-models.js';
import { openSession } from './execution-provider.js';
import { SessionPool, sessionLayout } from './session-pool.js';
import type { TileSession } from './session-thread.js';
import type { ProviderReport } from '../contract/segmentation.js';
import { DATA_FILE, checkRegularFile, readRegularText } from '../files/regular-file.js';
import { folderEntries } from '../files/folder-entries.js';

/** Beside an imported `<name>.onnx`: what the user told us about it (`<name>.model.json`). */
export const ModelSidecar = z.object({
  name: z.string(),
  importedFrom: z.string(),
  importedAt: z.string(),
  classes: z.array(ClassDef),
  normalisation: Normalisation,
  sizing: InputSizing,
  /** Absent in sidecars written before the rule existed: `studio`. */
  resize: ResizeRule.optional(),
});
export type ModelSidecar = z.infer<typeof ModelSidecar>;

export function sidecarFile(onnxFile: string): string {
  return onnxFile.replace(/\.onnx$/i, '') + '.model.json';
}

export interface DescribedModel {
  description: ModelDescription;
  provider: ProviderReport;
}

export interface LoadedModel extends DescribedModel {
  /** The model, ready to run on threads of its own (see SessionPool). */
  session: TileSession;
}

/** Opens an .onnx file (with its sidecar, if any) on the best execution provider and describes it. */
export async function describeOnnxFile(file: string, hints: ModelHints = {}): Promise<DescribedModel> {
  const absolute = path.resolve(file);
  await checkRegularFile(absolute, DATA_FILE); // onnxruntime opens it by path: a pipe would block it for ever
  const sidecar = await readSidecar(absolute);
  const opened = await openSession(absolute);
  try {
    // What the user says now wins over the sidecar; the model's own metadata wins over both.
    const description = await describeOnnxModel(absolute, opened.session, { ...(sidecar ? { name: sidecar.name, classes: sidecar.classes, normalisation: sidecar.normalisation, sizing: sidecar.sizing, ...(sidecar.resize ? { resize: sidecar.resize } : {}) } : {}), ...hints });
    return { description, provider: opened.provider };
  } finally {
    await opened.session.release();
  }
}

/** Describes an .onnx file and opens it for inference on threads of its own (see SessionPool). */
export async function loadOnnxModel(file: string, hints: ModelHints = {}): Promise<LoadedModel> {
  const described = await describeOnnxFile(file, hints);
  const { description, provider } = described;
  const absolute = path.resolve(file);
  const layout = sessionLayout(provider.name, (await fs.stat(absolute)).size);
  const session = await SessionPool.open(absolute, provider.name, description.inputName, description.outputName, layout);
  return { ...described, session };
}

/**
 * Resolves what `--model` names: an .onnx file; `project:name` for a model imported into the project
 * (models/<name>.onnx) or `project:runId` for a run's best model; a project folder alone means its
 * latest run with a model. A run's model is exported to ONNX once, as models/run-<id>.onnx, and
 * re-exported when the run has found a better model since.
 */
export async function loadModelSpec(spec: string, hints: ModelHints = {}): Promise<LoadedModel> {
  if (/\.onnx$/i.test(spec)) {
    if (await isFile(spec)) return loadOnnxModel(spec, hints);
    if (!spec.includes(':')) throw new AppError('not_found', `--model ${spec}: no such file.`, { file: spec });
  }
  const { root, name } = await splitProjectSpec(spec);
  const project = await Project.open(root);
  return loadProjectModel(project, name);
}

/** The named model (an imported model's name or a run id); else the project's model in use; else the newest run's. */
export async function loadProjectModel(project: Project, requested: string | undefined): Promise<LoadedModel> {
  const name = requested ?? project.modelInUse ?? undefined;
  if (name) {
    const imported = await importedModelFile(project, name);
    if (imported === null) throw new AppError('invalid_input', `"${name}" is not a model or run name (${SAFE_NAME_RULE}).`);
    if (await isFile(imported)) return loadOnnxModel(imported);
    const runJson = await project.resolve(`${RUNS_FOLDER}/${name}/run.json`);
    if (!(await isFile(runJson))) throw await noSuchModel(project, name, [imported, runJson]);
  }
  return loadOnnxModel(await runModelFile(project, name), { runId: name ?? null });
}

/** Names every place looked in, and what the project does have. */
async function noSuchModel(project: Project, name: string, lookedFor: readonly string[]): Promise<AppError> {
  const models = await folderEntries(await project.resolve(MODELS_FOLDER));
  const imported = models.filter((file) => file.endsWith('.onnx') && !file.startsWith('run-')).map((file) => file.slice(0, -'.onnx'.length));
  const runs = (await RunFolder.list(project)).runs.filter((run) => run.modelPath !== null).map((run) => run.id);
  const have = [...imported.map((model) => `${model} (imported)`), ...runs.map((run) => `${run} (trained run)`)];
  return new AppError(
    'not_found',
    `Project ${project.name} has no model "${name}": looked for an imported model ${lookedFor[0]} and a training run ${lookedFor[1]}. ${have.length ? `Its models: ${have.join(', ')}.` : 'It has no models yet: train one or import one with "unet-studio import-model".'}`,
    { lookedFor, models: have },
  );
}

/** The run's best model as ONNX (exported on first use, refreshed when the run improved). */
export async function runModelFile(project: Project, runId: string | undefined): Promise<string> {
  const run = runId ? await RunFolder.open(project, runId) : await RunFolder.latestWithModel(project);
  if (!run.summary.modelPath) throw new AppError('not_found', `Run ${run.id} of ${project.name} has no trained model yet.`);
  const file = await project.resolve(`${MODELS_FOLDER}/run-${run.id}.onnx`);
  const [onnx, trained] = await Promise.all([fs.stat(file).catch(() => null), fs.stat(path.join(run.modelDir, 'model.json')).catch(() => null)]);
  if (!onnx || (trained && trained.mtimeMs > onnx.mtimeMs)) {
    await exportModel(project, { runId: run.id, format: 'onnx', out: file, probabilities: false, overwrite: true });
  }
  return file;
}

/** `folder` or `folder:name`; a colon that belongs to the path (C:\\...) is not a separator. */
async function splitProjectSpec(spec: string): Promise<{ root: string; name: string | undefined }> {
  const colon = spec.lastIndexOf(':');
  if (colon > 1 && /^[\w.-]+$/.test(spec.slice(colon + 1)) && (await isFile(projectFile(path.resolve(spec.slice(0, colon)))))) {
    return { root: spec.slice(0, colon), name: spec.slice(colon + 1) };
  }
  if (await isFile(projectFile(path.resolve(spec)))) return { root: spec, name: undefined };
  throw new AppError('not_found', `--model ${spec}: neither an .onnx file nor a project folder (or project:run).`);
}

async function readSidecar(onnxFile: string): Promise<ModelSidecar | null> {
  const text = await readRegularText(sidecarFile(onnxFile)).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'not_found') return null;
    throw err;
  });
  if (text === null) return null;
  const parsed = ModelSidecar.safeParse(JSON.parse(text));
  if (!parsed.success) throw new AppError('invalid_input', `${sidecarFile(onnxFile)}: not a valid model description.`);
  return parsed.data;
}
