import { AppError, isAbortError, throwIfCancelled, toContractError } from '../contract/errors.js';
import type { FileProblem, ImageEntry, ImagePrediction } from '../contract/schemas.js';
import type { PredictionsReport, PredictionsRequest } from '../contract/segmentation.js';
import { readRaster } from '../imaging/read-image.js';
import type { Project } from '../project/project.js';
import { predictionRelativePath } from '../project/project-layout.js';
import { loadProjectModel } from './model-files.js';
import { InferenceThreadStopped } from './session-thread.js';
import { segmentImage } from './segment-image.js';
import { writeLabelPng } from './segment-outputs.js';

export interface PredictCallbacks {
  signal?: AbortSignal;
  onProgress?(done: number, total: number, message: string): void;
  /** Records a written prediction on the image's entry (the host owns project.json: see predictor-host.ts). */
  onPredicted(id: string, prediction: ImagePrediction): Promise<void>;
}

/**
 * Segments the project's images that have no human mask (unlabelled, or predicted before) with the
 * model asked for (else the model in use, else the newest run's), writes predictions/<id>.png and
 * has the mean confidence recorded on the image entry, so the browser can list the least confident
 * first. Human masks are never touched. Runs in the predictor process, under the host's write lock.
 */
export async function predictProject(project: Project, request: Omit<PredictionsRequest, 'project'>, callbacks: PredictCallbacks): Promise<PredictionsReport> {
  const started = performance.now();
  const { signal } = callbacks;
  const loaded = await loadProjectModel(project, request.model ?? request.runId);
  const model = loaded.description;
  try {
    const unknown = model.classes.filter((entry) => !project.classes.some((known) => known.id === entry.id));
    if (unknown.length) {
      throw new AppError('invalid_input', `Model ${model.name} predicts classes the project does not have: ${unknown.map((entry) => `${entry.id} ${entry.name}`).join(', ')}.`);
    }
    const isHumanLabelled = (image: ImageEntry) => image.mask !== null;
    const targets = project.images.filter((image) => !isHumanLabelled(image));
    const skipped: FileProblem[] = [];
    let predicted = 0;
    callbacks.onProgress?.(0, targets.length, 'Predicting');
    for (const [index, image] of targets.entries()) {
      throwIfCancelled(signal);
      try {
        const raster = await readRaster(await project.resolve(image.file), { maxPixels: project.settings.maxImagePixels, page: image.page });
        const { map, meanConfidence } = await segmentImage(loaded.session, model, raster, { settings: request, ...(signal ? { signal } : {}) });
        const file = predictionRelativePath(image.id);
        await writeLabelPng(map, await project.resolve(file));
        await callbacks.onPredicted(image.id, { file, meanConfidence, runId: model.runId ?? model.name, at: new Date().toISOString() });
        predicted += 1;
      } catch (err) {
        if (signal?.aborted || isAbortError(err) || err instanceof InferenceThreadStopped) throw err;
        const error = toContractError(err);
        skipped.push({ file: image.file, code: error.code, message: error.message });
      }
      callbacks.onProgress?.(index + 1, targets.length, image.originalName);
    }
    return { model: model.name, provider: loaded.provider, predicted, humanLabelled: project.images.length - targets.length, skipped, durationMs: Math.round(performance.now() - started) };
  } finally {
    await loaded.session.release();
  }
}
