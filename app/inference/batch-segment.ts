import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError, isAbortError, toContractError } from '../contract/errors.js';
import type { FileProblem } from '../contract/schemas.js';
import type { SegmentedFile, SegmentReport, SegmentRequest } from '../contract/segmentation.js';
import { IMAGE_EXTENSIONS } from '../dataset/list-files.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { makeWritableFolder } from '../files/make-folder.js';
import { DEFAULT_MAX_PIXELS } from '../imaging/pixel-limit.js';
import { readRaster, type RasterImage } from '../imaging/read-image.js';
import { readMaskPng } from '../masks/mask-png.js';
import { runPool } from '../jobs/run-pool.js';
import { assertNoInputOverwritten, planBatch, type PlannedImage } from './batch-plan.js';
import { imageSource } from './image-source.js';
import { loadModelSpec, type LoadedModel } from './model-files.js';
import { allOutputs, classFractions, outputFilesFor, probabilityWriters, writeLabelOutputs } from './segment-outputs.js';
import { effectiveResize, effectiveSizing, segmentImage } from './segment-image.js';
import { InferenceThreadStopped, type TileSession } from './session-thread.js';
import { csvLines, partFileName, partTable, shardOf, SUMMARY_CSV } from './summary-shards.js';
import { removeStaleTemporaryFiles } from '../files/temp-files.js';

export interface BatchCallbacks {
  signal?: AbortSignal;
  onProgress?(done: number, total: number, message: string): void;
  /** An already opened model (else `request.model` is loaded). */
  model?: LoadedModel;
}

/**
 * Images being worked on at once: one per inference thread of the model, and one more that is
 * decoded, blended or encoded on this thread meanwhile, so the model rarely waits.
 */
function imagesInFlight(session: TileSession): number {
  return session.parallelism + 1;
}

/**
 * Segments a folder or list of images into `request.output`. Per image: label PNG, colour PNG and
 * optionally an overlay and per-class probability maps, each written atomically. Unreadable files
 * are listed with their reason and skipped. Images whose outputs all exist are kept (so a cancelled
 * job, run again, picks up where it stopped) unless `overwrite`. A few images are in flight at a
 * time (imagesInFlight); a cancel stops taking new ones and lets those finish or stop.
 */
export async function segmentBatch(request: SegmentRequest, callbacks: BatchCallbacks = {}): Promise<SegmentReport> {
  const started = performance.now();
  const { signal } = callbacks;
  const planned = await planBatch(request, signal);
  if (planned.images.length === 0) throw nothingToSegment(request.inputs, planned.problems);
  // Made and checked before anything is read, so an output folder that cannot be written fails
  // first, and the summary (or a shard's part, even one with no image) always has its folder.
  await makeWritableFolder(planned.output);
  const { shard } = request;
  const plan = shard ? { ...planned, images: planned.images.filter((image) => shardOf(path.relative(planned.output, image.outputBase), shard.count) === shard.index) } : planned;
  let leftoversRemoved = 0;
  for (const folder of new Set(plan.images.map((image) => path.dirname(image.outputBase)))) leftoversRemoved += (await removeStaleTemporaryFiles(folder)).length;
  const loaded = callbacks.model ?? (await loadModelSpec(request.model, { ...(request.classes ? { classes: request.classes } : {}), ...(request.normalisation ? { normalisation: request.normalisation } : {}) }));
  try {
    const model = loaded.description;
    const filesOf = (image: PlannedImage) => outputFilesFor(image.outputBase, model.classes, request);
    await assertNoInputOverwritten(plan.images, (image) => allOutputs(filesOf(image)));

    const skipped: FileProblem[] = [...plan.problems];
    const segmented: SegmentedFile[] = [];
    const kept: string[] = [];
    const todo: PlannedImage[] = [];
    for (const image of plan.images) {
      if (!request.overwrite && (await allExist(allOutputs(filesOf(image))))) kept.push(image.file);
      else todo.push(image);
    }
    const total = plan.images.length;
    let done = kept.length;
    callbacks.onProgress?.(done, total, kept.length ? `${kept.length} already segmented` : 'Segmenting');

    const decode = (image: PlannedImage): Promise<RasterImage | FileProblem> =>
      readRaster(image.file, { maxPixels: DEFAULT_MAX_PIXELS }).catch((err: unknown) => {
        const error = toContractError(err);
        return { file: image.file, code: error.code, message: error.message };
      });
    const finished = (image: PlannedImage) => {
      done += 1;
      callbacks.onProgress?.(done, total, path.basename(image.file));
    };
    const segmentOne = async (image: PlannedImage) => {
      const decoded = await decode(image);
      if (!('data' in decoded)) {
        skipped.push(decoded);
        return finished(image);
      }
      const imageStarted = performance.now();
      const files = filesOf(image);
      const probabilities = files.probabilities.length ? await probabilityWriters(files.probabilities, decoded.width, decoded.height) : null;
      let result;
      try {
        result = await segmentImage(loaded.session, model, decoded, {
          settings: request,
          ...(probabilities ? { onProbabilityRow: (y: number, row: Float32Array) => probabilities.writeRow(y, row) } : {}),
          ...(signal ? { signal } : {}),
        });
        await probabilities?.commit();
      } catch (err) {
        await probabilities?.abort();
        if (signal?.aborted || isAbortError(err) || err instanceof InferenceThreadStopped) throw err;
        const error = toContractError(err);
        skipped.push({ file: image.file, code: error.code, message: `${image.file}: ${error.message}` });
        return finished(image);
      }
      // A cancel lets the PNGs of an inferred image finish (finished files are kept).
      const { map, meanConfidence } = result;
      try {
        await writeLabelOutputs(map, model.classes, files, imageSource(decoded, model, effectiveSizing(model, request.scale), effectiveResize(model, request.resize)), request.overlayOpacity);
      } catch (err) {
        // One image's outputs that cannot be written (a name too long for the file system…) skip that image only.
        if (signal?.aborted || isAbortError(err)) throw err;
        const error = toContractError(err);
        skipped.push({ file: image.file, code: error.code, message: `${image.file}: its outputs could not be written (${error.message})` });
        return finished(image);
      }
      segmented.push({
        file: image.file,
        width: map.width,
        height: map.height,
        fractions: classFractions(map, model.classes.length),
        meanConfidence,
        seconds: (performance.now() - imageStarted) / 1000,
        outputs: allOutputs(files),
      });
      finished(image);
    };
    await runPool(todo, imagesInFlight(loaded.session), segmentOne, signal);
    const order = new Map(plan.images.map((image, index) => [image.file, index]));
    segmented.sort((a, b) => order.get(a.file)! - order.get(b.file)!);

    const table = await summaryTable(plan.images, segmented, kept, filesOf, model.classes.map((entry) => entry.name), skipped);
    const summaryCsv = path.join(plan.output, shard ? partFileName(shard) : SUMMARY_CSV);
    if (shard) {
      // A shard may get no image at all; its (empty) part still tells the merge that it finished.
      const batchIndex = new Map(planned.images.map((image, index) => [image.file, index]));
      await writeFileAtomic(summaryCsv, partTable(table.header, table.rows.map((row) => ({ index: batchIndex.get(row.file)!, cells: row.cells }))));
    } else {
      await writeFileAtomic(summaryCsv, csvLines([table.header, ...table.rows.map((row) => row.cells)]));
    }
    return { output: plan.output, model, provider: loaded.provider, segmented, kept, skipped, summaryCsv, durationMs: Math.round(performance.now() - started), leftoversRemoved };
  } finally {
    if (!callbacks.model) await loaded.session.release();
  }
}

/** Nothing to segment: says where it looked and, when files were passed over, why each one was. */
function nothingToSegment(inputs: readonly string[], problems: readonly FileProblem[]): AppError {
  const where = inputs.map((input) => path.resolve(input)).join(', ');
  const reasons = problems.length ? `Passed over:\n${problems.map((problem) => `  ${problem.message}`).join('\n')}` : `It holds no ${[...IMAGE_EXTENSIONS].join(' ')} files.`;
  return new AppError('invalid_input', `No images found in ${where}. ${reasons}`, { inputs: [...inputs], problems: [...problems] });
}

/**
 * file, width, height, the pixel fraction of each class, seconds (empty for images kept from an
 * earlier run). A kept image whose label PNG cannot be read has no row, and `problems` says why.
 */
async function summaryTable(images: readonly PlannedImage[], segmented: readonly SegmentedFile[], kept: readonly string[], filesOf: (image: PlannedImage) => { labels: string }, classNames: readonly string[], problems: FileProblem[]): Promise<{ header: string[]; rows: { file: string; cells: string[] }[] }> {
  const byFile = new Map(segmented.map((entry) => [entry.file, entry]));
  const keptSet = new Set(kept);
  const header = ['file', 'width', 'height', ...classNames.map((name) => `fraction_${name}`), 'seconds'];
  const rows: { file: string; cells: string[] }[] = [];
  for (const image of images) {
    let row = byFile.get(image.file);
    if (!row && keptSet.has(image.file)) {
      try {
        const map = await readMaskPng(filesOf(image).labels);
        row = { file: image.file, width: map.width, height: map.height, fractions: classFractions(map, classNames.length), meanConfidence: 0, seconds: Number.NaN, outputs: [] };
      } catch (err) {
        const error = toContractError(err);
        problems.push({ file: image.file, code: error.code, message: `${error.message} It has no row in ${SUMMARY_CSV}; delete its outputs and segment again to redo it.` });
      }
    }
    if (!row) continue;
    rows.push({ file: image.file, cells: [row.file, row.width, row.height, ...row.fractions.map((fraction) => fraction.toFixed(6)), Number.isNaN(row.seconds) ? '' : row.seconds.toFixed(3)].map(String) });
  }
  return { header, rows };
}

async function allExist(files: readonly string[]): Promise<boolean> {
  const found = await Promise.all(files.map((file) => fs.stat(file).then((stats) => stats.isFile(), () => false)));
  return found.every(Boolean);
}
