import { promises as fs } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { SAFE_NAME } from '../contract/schemas.js';
import { AppError } from '../contract/errors.js';
import { DEFAULT_MODEL_LICENSE, type ModelExportRequest, type ModelExportResult } from '../contract/model-export.js';
import { initialiseBackend } from '../engine/backend/select-backend.js';
import { loadLayersModel } from '../engine/model/model-files.js';
import { RUNS_FOLDER, RunFolder } from '../engine/runs/run-store.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import type { Project } from '../project/project.js';
import { appVersion } from './app-version.js';
import { writeBioimageioPackage } from './bioimageio/export-bioimageio.js';
import { buildModelCard, type ModelCard, onnxMetadata, renderModelCard, TrainedModelFacts } from './model-card.js';
import { layersModelToOnnx } from './onnx/layers-to-onnx.js';
import { encodeOnnxModel, type OnnxModel } from './onnx/onnx-schema.js';
import { exportTfjs } from './tfjs/export-tfjs.js';
import { makeFolder } from '../files/make-folder.js';
import { tritonConfig, tritonModelName } from './triton/triton-config.js';

/** The request without its project; `overwrite` defaults to false (never write over a file). */
type ExportOptions = Omit<ModelExportRequest, 'project' | 'overwrite'> & { overwrite?: boolean };

/** Where a format's files go: the folder, the model card's file stem there, and the model files. */
interface ExportLayout {
  dir: string;
  cardStem: string;
  /** Model files in the order the result lists them (the card's .md and .json follow). */
  files: string[];
}

/**
 * Exports the best model of a run (default: the latest run that has one) as ONNX, a TF.js layers
 * model, a bioimage.io model package or a Triton model repository, with a model card beside it
 * (`<name>.md` + `<name>.json`; `model-card.*` in a TF.js folder or a Triton model folder).
 */
export async function exportModel(project: Project, request: ExportOptions): Promise<ModelExportResult> {
  const run = await runWithModel(project, request.runId);
  // The process's one backend choice, the same any later caller (segmentation) gets. The ONNX
  // converter reads weights with dataSync, which rules out webgpu.
  await initialiseBackend('auto', { syncReads: true });
  const { model, metadata } = await loadLayersModel(run.modelDir);
  try {
    const parsed = TrainedModelFacts.safeParse(metadata.unetStudio);
    if (!parsed.success) {
      throw new AppError('invalid_project', `${path.join(run.modelDir, 'model.json')} lacks U-Net Studio's training facts (userDefinedMetadata.unetStudio); it cannot be exported with a model card.`);
    }
    const trained = parsed.data;
    const layout = await exportLayout(project, request);
    const markdown = path.join(layout.dir, `${layout.cardStem}.md`);
    const json = path.join(layout.dir, `${layout.cardStem}.json`);
    if (!request.overwrite) await assertNothingReplaced([...layout.files, markdown, json]);
    await makeFolder(layout.dir);
    const probabilitiesOnly = request.format === 'bioimageio';
    const card = buildModelCard({
      format: request.format,
      project: project.name,
      appVersion: await appVersion(),
      trained,
      run: run.summary,
      bestRecord: (await run.readMetrics()).find((record) => record.epoch === trained.epoch) ?? null,
      probabilities: request.probabilities,
      probabilitiesOnly,
      name: request.format === 'onnx' ? layout.cardStem : `${project.name} (run ${trained.runId})`,
      files: layout.files.map((file) => path.relative(layout.dir, file)),
    });
    const onnx = () => toOnnx(model, card, request.probabilities, probabilitiesOnly);
    switch (request.format) {
      case 'onnx':
        await writeFileAtomic(layout.files[0]!, encodeOnnxModel(onnx()));
        break;
      case 'tfjs':
        await exportTfjs(model, layout.dir, metadata);
        break;
      case 'bioimageio':
        await writeBioimageioPackage(project, card, encodeOnnxModel(onnx()), layout.files[0]!, { license: request.license ?? DEFAULT_MODEL_LICENSE, ...(request.authors ? { authors: request.authors } : {}) });
        break;
      case 'triton': {
        const graph = onnx();
        const [config, onnxFile] = layout.files as [string, string];
        await makeFolder(path.dirname(onnxFile));
        await writeFileAtomic(onnxFile, encodeOnnxModel(graph));
        await writeFileAtomic(config, tritonConfig(path.basename(layout.dir), graph));
        break;
      }
    }
    await writeFileAtomic(markdown, renderModelCard(card));
    await writeFileAtomic(json, `${JSON.stringify(card, null, 2)}\n`);
    return { format: request.format, runId: run.id, files: [...layout.files, markdown, json], bestEpoch: trained.epoch, valDice: trained.valDice };
  } finally {
    model.dispose();
  }
}

function toOnnx(model: tf.LayersModel, card: ModelCard, probabilities: boolean, probabilitiesOnly: boolean): OnnxModel {
  return layersModelToOnnx(model, {
    probabilities,
    probabilitiesOnly,
    graphName: model.name,
    producerVersion: card.appVersion,
    docString: card.description,
    metadata: onnxMetadata(card),
  });
}

/** The run asked for; else the project's model in use when it is a run; else the newest run with a model. */
async function runWithModel(project: Project, runId: string | undefined): Promise<RunFolder> {
  const chosen = runId ?? (project.modelInUse && (await isRun(project, project.modelInUse)) ? project.modelInUse : undefined);
  if (!chosen) return RunFolder.latestWithModel(project);
  const run = await RunFolder.open(project, chosen).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'not_found') throw new AppError('not_found', `Project ${project.name} has no run "${chosen}" (no ${path.join('runs', chosen, 'run.json')}).`);
    throw err;
  });
  if (!run.summary.modelPath) throw new AppError('not_found', `Run ${chosen} has no trained model yet: it has not finished an epoch. Train it further (--resume ${chosen}) or choose another run.`);
  return run;
}

async function isRun(project: Project, name: string): Promise<boolean> {
  if (!SAFE_NAME.test(name)) return false;
  return fs.stat(await project.resolve(`${RUNS_FOLDER}/${name}/run.json`)).then(() => true, () => false);
}

/**
 * onnx / bioimageio: `out` is the .onnx / .zip file (extension added when missing) or a folder
 * (existing, or written with a trailing slash) that gets `<project folder name>.onnx` / `.zip`;
 * tfjs: `out` is the folder; triton: `out` is the model repository, which gets `<model name>/`.
 */
async function exportLayout(project: Project, request: ExportOptions): Promise<ExportLayout> {
  const out = path.resolve(request.out);
  const folderName = path.basename(project.root);
  switch (request.format) {
    case 'tfjs':
      return { dir: out, cardStem: 'model-card', files: ['model.json', 'weights.bin'].map((file) => path.join(out, file)) };
    case 'triton': {
      const dir = path.join(out, tritonModelName(folderName));
      return { dir, cardStem: 'model-card', files: [path.join(dir, 'config.pbtxt'), path.join(dir, '1', 'model.onnx')] };
    }
    case 'onnx':
    case 'bioimageio': {
      const extension = request.format === 'onnx' ? '.onnx' : '.zip';
      const namesFolder = /[\\/]$/.test(request.out) || (await fs.stat(out).then((stats) => stats.isDirectory(), () => false));
      const file = namesFolder ? path.join(out, `${folderName}${extension}`) : out.endsWith(extension) ? out : `${out}${extension}`;
      return { dir: path.dirname(file), cardStem: path.basename(file, extension), files: [file] };
    }
  }
}

async function assertNothingReplaced(files: readonly string[]): Promise<void> {
  for (const file of files) {
    if (await fs.lstat(file).then(() => true, () => false)) {
      throw new AppError('conflict', `${file} exists already; nothing was written. Export again with overwrite (--overwrite) to replace it, or choose another place.`, { file });
    }
  }
}
