import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../contract/errors.js';
import { ClassDef } from '../contract/schemas.js';
import { type ModelDescription, Normalisation, ResizeRule } from '../contract/segmentation.js';
import { InputSizing } from '../contract/training.js';
import { RunFolder, RUNS_FOLDER } from '../engine/runs/run-store.js';
import { exportModel } from '../export/export-model.js';
import { Project } from '../project/project.js';
import { projectFile } from '../project/project-layout.js';
import { describeOnnxModel, type ModelHints } from './describe-model.js';
import { openSession } from './execution-provider.js';
import { SessionPool, sessionLayout } from './session-pool.js';
import type { TileSession } from './session-thread.js';
import type { ProviderReport } from '../contract/segmentation.js';

export const MODELS_FOLDER = 'models';

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

export async function loadProjectModel(project: Project, name: string | undefined): Promise<LoadedModel> {
  if (name) {
    const imported = path.join(project.resolve(MODELS_FOLDER), `${name}.onnx`);
    if (/^[\w.-]+$/.test(name) && (await isFile(imported))) return loadOnnxModel(imported);
    if (!(await isFile(path.join(project.resolve(RUNS_FOLDER), name, 'run.json')))) throw await unknownModel(project, name);
  }
  return loadOnnxModel(await runModelFile(project, name), { runId: name ?? null });
}

/** "project:name" names neither an imported model nor a run: say which ones there are. */
async function unknownModel(project: Project, name: string): Promise<AppError> {
  const models = (await fs.readdir(project.resolve(MODELS_FOLDER)).catch(() => []))
    .filter((file) => file.endsWith('.onnx') && !file.startsWith('run-'))
    .map((file) => file.slice(0, -'.onnx'.length))
    .sort();
  const runs = (await RunFolder.list(project)).filter((run) => run.modelPath !== null).map((run) => run.id);
  const known = [models.length ? `imported models: ${models.join(', ')}` : 'no imported models', runs.length ? `runs with a model: ${runs.join(', ')}` : 'no run with a model'];
  return new AppError('not_found', `Project ${project.name} has no imported model or run named "${name}" (${known.join('; ')}).`, { name });
}

/** The run's best model as ONNX (exported on first use, refreshed when the run improved). */
export async function runModelFile(project: Project, runId: string | undefined): Promise<string> {
  const run = runId ? await RunFolder.open(project, runId) : await latestRunWithModel(project);
  if (!run.summary.modelPath) throw new AppError('not_found', `Run ${run.id} of ${project.name} has no trained model yet.`);
  const file = path.join(project.resolve(MODELS_FOLDER), `run-${run.id}.onnx`);
  const [onnx, trained] = await Promise.all([fs.stat(file).catch(() => null), fs.stat(path.join(run.modelDir, 'model.json')).catch(() => null)]);
  if (!onnx || (trained && trained.mtimeMs > onnx.mtimeMs)) {
    await exportModel(project, { runId: run.id, format: 'onnx', out: file, probabilities: false });
  }
  return file;
}

async function latestRunWithModel(project: Project): Promise<RunFolder> {
  const latest = (await RunFolder.list(project)).filter((summary) => summary.modelPath !== null).at(-1);
  if (!latest) throw new AppError('not_found', `Project ${project.name} has no trained model yet; train one first (unet-studio train ${project.root}) or import one (unet-studio import-model).`);
  return RunFolder.open(project, latest.id);
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
  const text = await fs.readFile(sidecarFile(onnxFile), 'utf8').catch(() => null);
  if (text === null) return null;
  const parsed = ModelSidecar.safeParse(JSON.parse(text));
  if (!parsed.success) throw new AppError('invalid_input', `${sidecarFile(onnxFile)}: not a valid model description.`);
  return parsed.data;
}

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then((stats) => stats.isFile(), () => false);
}

