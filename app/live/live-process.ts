// Entry point of a live training process: one live session per process, below the UI in priority.
import os from 'node:os';
import { deflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../contract/errors.js';
import type { ImageRegion } from '../contract/live.js';
import { TrainRequest } from '../contract/training.js';
import { initialiseBackend } from '../engine/backend/select-backend.js';
import { prepareImage } from '../engine/data/load-samples.js';
import { resolveTrainConfig } from '../engine/training/resolve-config.js';
import { readRaster, type RasterImage } from '../imaging/read-image.js';
import { serveWorkerJob } from '../jobs/worker-entry.js';
import { readMaskPng } from '../masks/mask-png.js';
import { maskRelativePath } from '../project/project-layout.js';
import { Project } from '../project/project.js';
import { createRandom } from '../random/prng.js';
import { LiveControls, type LiveControl, LiveStartFields } from './live-messages.js';
import { saveLiveRun } from './live-run.js';
import { LiveTrainer } from './live-trainer.js';
import { PaintedPixels } from './painted-pixels.js';
import { predictionRegions } from './visible-first.js';

/** Patches per step: small, so a step is short and new strokes count within a second or two. */
const BATCH = 4;
const STATUS_EVERY_MS = 1000;
/** How long to wait for paint when there is none yet. */
const IDLE_WAIT_MS = 200;
/** Predictions wait at least this many times as long as the last one took: training keeps two thirds of the time or more. */
const PREDICTION_SPACING = 2;

serveWorkerJob(
  LiveStartFields,
  async (start, { signal, post, onControl }) => {
    // Below the UI: the lowest priority, and a core left free where there are several.
    os.setPriority(os.constants.priority.PRIORITY_LOW);
    const backend = await initialiseBackend('auto', { threads: Math.max(1, os.availableParallelism() - 1) });
    const project = await Project.open(start.project);
    const config = liveConfig(project);
    const painted = new PaintedPixels(config.model.inputChannels, createRandom(config.settings.seed).next);
    const rasters = new Map<string, RasterImage>();
    const trainer = new LiveTrainer(config, BATCH, start.patch);

    const raster = async (id: string) => {
      let cached = rasters.get(id);
      if (!cached) {
        const entry = project.image(id);
        cached = await readRaster(await project.resolve(entry.file), { maxPixels: project.settings.maxImagePixels, page: entry.page });
        rasters.set(id, cached);
      }
      return cached;
    };
    /** Reads an image's stored mask (absent: nothing painted yet) into the painted pixels. */
    const readMask = async (id: string) => {
      if (!project.hasImage(id)) return;
      const mask = await readMaskPng(await project.resolve(maskRelativePath(id))).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'not_found') return null;
        throw err;
      });
      if (!mask) return;
      const image = painted.has(id) ? null : prepareImage(await raster(id), config.model.inputChannels, config.settings.sizing).image;
      painted.update(id, mask.width, mask.height, image, mask.labels);
    };

    let current = start.imageId;
    let view = start.view;
    /** The latest labels of the current image: a part predicted anew is written over them. */
    let shown = null as { imageId: string; labels: Uint8Array } | null;
    const pending: LiveControl[] = [];
    onControl((message) => pending.push(message));
    for (const entry of project.images) if (entry.mask) await readMask(entry.id);

    let lastPrediction = -Infinity;
    let predictionMs = 0;
    let lastStatus = -Infinity;
    try {
      while (!signal.aborted) {
        for (const message of pending.splice(0)) {
          if (message.type === 'masks') for (const id of message.imageIds) await readMask(id);
          else if (message.type === 'focus') {
            if (message.imageId !== current) lastPrediction = -Infinity;
            current = message.imageId;
            view = message.view;
          } else {
            const saved = await saveLiveRun(project, config, trainer, painted.imageCount).then(
              (runId) => ({ runId, error: null }),
              (err: unknown) => ({ runId: null, error: err instanceof Error ? err.message : String(err) }),
            );
            post({ type: 'saved', request: message.request, ...saved });
          }
        }
        const stepped = await trainer.step(painted);
        const now = performance.now();
        // The first prediction waits one interval after the first step: an untrained model's would cost a prediction's time for nothing.
        if (stepped && trainer.steps === 1) lastPrediction = now;
        if (stepped && current && project.hasImage(current) && now - lastPrediction >= Math.max(start.predictEveryMs, PREDICTION_SPACING * predictionMs)) {
          const imageId = current;
          const image = await raster(imageId);
          if (shown?.imageId !== imageId) shown = { imageId, labels: new Uint8Array(image.width * image.height) };
          const { labels } = shown;
          const send = (region: ImageRegion | null) =>
            post({ type: 'prediction', imageId, step: trainer.steps, region, width: image.width, height: image.height, labelsBase64: deflateSync(labels, { level: 1 }).toString('base64') });
          // The part in view goes out as soon as it is predicted, the rest after it.
          const regions = predictionRegions(image.width, image.height, view);
          for (const [index, region] of regions.entries()) {
            await trainer.predictRegion(image, region, labels);
            if (index === 0 && regions.length > 1) send(region);
          }
          send(null);
          lastPrediction = performance.now();
          predictionMs = lastPrediction - now;
        }
        if (now - lastStatus >= STATUS_EVERY_MS) {
          post({ type: 'status', steps: trainer.steps, loss: trainer.lastLoss, labelledPixels: painted.labelledPixels, images: painted.imageCount, tensors: tf.memory().numTensors, backend: backend.name });
          lastStatus = now;
        }
        // Between steps the host's messages are read (and nothing is painted: wait for it).
        await new Promise((resolve) => setTimeout(resolve, stepped ? 0 : IDLE_WAIT_MS));
      }
    } finally {
      trainer.dispose();
    }
    return { steps: trainer.steps };
  },
  LiveControls,
);

/** The fast preset's small U-Net at the images' own resolution: patches of painted pixels are cut at full size. */
function liveConfig(project: Project) {
  return resolveTrainConfig(
    project,
    TrainRequest.parse({ project: project.root, preset: 'fast', model: { base: 8 }, settings: { sizing: { mode: 'scale', scale: 1 }, learningRate: 2e-3, epochs: 1, validationPercent: 0 } }),
  );
}
