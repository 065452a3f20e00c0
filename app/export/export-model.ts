import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../contract/errors.js';
import type { ModelExportRequest, ModelExportResult } from '../contract/model-export.js';
import { initialiseBackend } from '../engine/backend/select-backend.js';
import { loadLayersModel } from '../engine/model/model-files.js';
import { RunFolder } from '../engine/runs/run-store.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { describeWriteError } from '../files/file-errors.js';
import type { Project } from '../project/project.js';
import { appVersion } from './app-version.js';
import { buildModelCard, onnxMetadata, renderModelCard, TrainedModelFacts } from './model-card.js';
import { layersModelToOnnx } from './onnx/layers-to-onnx.js';
import { encodeOnnxModel } from './onnx/onnx-schema.js';
import { exportTfjs } from './tfjs/export-tfjs.js';

/**
 * Exports the best model of a run (default: the latest run that has one) as ONNX or as a TF.js layers
 * model, with a model card beside it (`<name>.md` + `<name>.json`; `model-card.*` in a TF.js folder).
 */
export async function exportModel(project: Project, request: Omit<ModelExportRequest, 'project'>): Promise<ModelExportResult> {
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
    const source = {
      format: request.format,
      project: project.name,
      appVersion: await appVersion(),
      trained,
      run: run.summary,
      bestRecord: (await run.readMetrics()).find((record) => record.epoch === trained.epoch) ?? null,
      probabilities: request.probabilities,
    };
    const { dir, cardStem, onnxFile } = await exportLayout(project, request);
    try {
      await fs.mkdir(dir, { recursive: true });
    } catch (err) {
      throw describeWriteError(dir, err);
    }
    const cardFor = (files: string[], name: string) => buildModelCard({ ...source, name, files: files.map((file) => path.relative(dir, file)) });
    const modelFiles = onnxFile ? [onnxFile] : await exportTfjs(model, dir, metadata);
    const card = cardFor(modelFiles, onnxFile ? path.basename(onnxFile, '.onnx') : `${project.name} (run ${trained.runId})`);
    if (onnxFile) {
      const onnx = layersModelToOnnx(model, {
        probabilities: request.probabilities,
        graphName: model.name,
        producerVersion: card.appVersion,
        docString: card.description,
        metadata: onnxMetadata(card),
      });
      await writeFileAtomic(onnxFile, encodeOnnxModel(onnx));
    }
    const markdown = path.join(dir, `${cardStem}.md`);
    const json = path.join(dir, `${cardStem}.json`);
    await writeFileAtomic(markdown, renderModelCard(card));
    await writeFileAtomic(json, `${JSON.stringify(card, null, 2)}\n`);
    return { format: request.format, runId: run.id, files: [...modelFiles, markdown, json], bestEpoch: trained.epoch, valDice: trained.valDice };
  } finally {
    model.dispose();
  }
}

async function runWithModel(project: Project, runId: string | undefined): Promise<RunFolder> {
  if (runId) {
    const run = await RunFolder.open(project, runId).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'not_found') throw new AppError('not_found', `Project ${project.name} has no run "${runId}" (no ${path.join('runs', runId, 'run.json')}).`);
      throw err;
    });
    if (!run.summary.modelPath) throw new AppError('not_found', `Run ${runId} has no trained model yet: it has not finished an epoch. Train it further (--resume ${runId}) or choose another run.`);
    return run;
  }
  // Run ids start with their start time, so the list is oldest first.
  const latest = (await RunFolder.list(project)).filter((summary) => summary.modelPath !== null).at(-1);
  if (!latest) throw new AppError('not_found', `Project ${project.name} has no trained model yet; train one first (unet-studio train ${project.root}).`);
  return RunFolder.open(project, latest.id);
}

/** onnx: `out` is the .onnx file (extension added when missing) or a folder (existing, or written with a trailing slash); tfjs: `out` is the folder. */
async function exportLayout(project: Project, request: Omit<ModelExportRequest, 'project'>): Promise<{ dir: string; cardStem: string; onnxFile: string | null }> {
  const out = path.resolve(request.out);
  if (request.format === 'tfjs') return { dir: out, cardStem: 'model-card', onnxFile: null };
  const namesFolder = /[\\/]$/.test(request.out) || (await fs.stat(out).then((stats) => stats.isDirectory(), () => false));
  const file = namesFolder ? path.join(out, `${path.basename(project.root)}.onnx`) : out.endsWith('.onnx') ? out : `${out}.onnx`;
  return { dir: path.dirname(file), cardStem: path.basename(file, '.onnx'), onnxFile: file };
}
