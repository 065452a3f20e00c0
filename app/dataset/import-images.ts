import { statusOfMask } from '../contract/scribble.js';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../contract/errors.js';
import type { FileProblem, ImageEntry, ImportPlan, ImportReport, ImportRequest, PlannedPair } from '../contract/schemas.js';
import { writeThumbnail } from '../imaging/thumbnail.js';
import { runPool } from '../jobs/run-pool.js';
import { encodeMaskPng } from '../masks/mask-png.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import type { Project } from '../project/project.js';
import { THUMBNAIL_FOLDER, maskRelativePath, thumbnailRelativePath } from '../project/project-layout.js';
import { listImageFiles } from './list-files.js';
import { planMatches } from './match-masks.js';
import { makeFolder } from '../files/make-folder.js';
import { displayName } from '../files/file-name.js';
import { type InspectContext, type InspectedPage, inspectContext, inspectPair, skipProblem } from './inspect-pair.js';
import type { ImageInfo } from '../imaging/image-info.js';

/**
 * Where imported images go: the project itself (CLI, tests), or an import worker's view of it whose
 * new entries the host adds to project.json (dataset/worker/importer-process.ts).
 */
export type ImportTarget = Pick<Project, 'root' | 'classes' | 'settings' | 'images' | 'resolve' | 'uniqueImageId' | 'addImages' | 'addMissingMask' | 'claimWrites' | 'takeCleanupNotice'>;

export interface ImportCallbacks {
  signal?: AbortSignal;
  onProgress?(done: number, total: number, message: string): void;
}

/** Entries are added to project.json in batches, so a killed import keeps most of its work. */
const SAVE_EVERY = 200;

/** Lists the files and shows how images and masks will be paired, without reading any pixels. */
export async function planImport(request: ImportRequest, signal?: AbortSignal): Promise<ImportPlan> {
  const listing = { recursive: request.recursive, ...(signal ? { signal } : {}) };
  const [images, masks, rois] = await Promise.all([
    listImageFiles(request.images, listing),
    request.masks ? listImageFiles([request.masks], listing) : { files: [], problems: [] },
    request.roi ? listImageFiles([request.roi], listing) : { files: [], problems: [] },
  ]);
  // A mask folder inside an image folder must not import its masks as images.
  const maskFiles = new Set([...masks.files, ...rois.files]);
  const imageFiles = images.files.filter((file) => !maskFiles.has(file));
  if (images.files.length > 0 && imageFiles.length === 0) {
    const folder = request.masks && masks.files.length ? request.masks : request.roi;
    throw new AppError(
      'invalid_input',
      `Every image file given (${request.images.join(', ')}) is also in the ${folder === request.masks ? 'mask' : 'region-of-interest'} folder ${folder}, so none is left to import as an image. Keep the masks in a folder of their own and give that folder as the mask folder.`,
      { images: request.images, masks: request.masks ?? null, roi: request.roi ?? null },
    );
  }
  const { pairs, unmatchedMasks } = planMatches(imageFiles, masks.files, rois.files, request.match);
  return { pairs, unmatchedMasks, problems: [...images.problems, ...masks.problems, ...rois.problems] };
}

/** What taking the project's write lock tidied up, as an import warning. */
export function cleanupWarning(root: string, notice: string): FileProblem {
  return { file: root, code: 'cleaned_up', message: `${root}: ${notice}` };
}

/**
 * Imports images (and their masks) into a project. Each file is validated on its own (inspectPair,
 * the same checks as the preview): a broken image is reported and skipped, an image whose mask
 * cannot be used comes in unlabelled with the reason, the rest imports, and project.json stays
 * valid throughout.
 */
export async function importImages(project: ImportTarget, request: ImportRequest, callbacks: ImportCallbacks = {}): Promise<ImportReport> {
  const started = performance.now();
  const { signal } = callbacks;
  await project.claimWrites();
  const cleanup = project.takeCleanupNotice();
  const plan = await planImport(request, signal);
  const report: ImportReport = {
    imported: 0,
    alreadyPresent: 0,
    masksAdded: 0,
    labelled: 0,
    unlabelled: 0,
    skipped: [...plan.problems],
    warnings: cleanup ? [cleanupWarning(project.root, cleanup)] : [],
    unmatchedMasks: plan.unmatchedMasks,
    durationMs: 0,
  };
  const context: PairContext = { ...inspectContext(project, plan.pairs, signal), report };
  let batch: ImageEntry[] = [];
  const flush = async () => {
    const entries = batch;
    batch = [];
    if (entries.length) await project.addImages(entries);
  };

  await makeFolder(await project.resolve(THUMBNAIL_FOLDER));
  let done = 0;
  const total = plan.pairs.length;
  callbacks.onProgress?.(0, total, 'Importing');
  try {
    await runPool(
      plan.pairs,
      IMPORT_CONCURRENCY,
      async (pair) => {
        try {
          const entries = await importPair(project, request, pair, context);
          for (const entry of entries) {
            report.imported += 1;
            if (entry.mask) report.labelled += 1;
            else report.unlabelled += 1;
          }
          batch.push(...entries);
          if (batch.length >= SAVE_EVERY) await flush();
        } catch (err) {
          if (signal?.aborted) throw err;
          report.skipped.push(skipProblem(pair.image, err));
        }
        done += 1;
        callbacks.onProgress?.(done, total, path.basename(pair.image));
      },
      signal,
    );
  } finally {
    // Whatever finished is kept, also when the import is cancelled.
    await flush();
  }
  report.durationMs = Math.round(performance.now() - started);
  return report;
}

/** Files decoded at once: sharp decodes on libuv's threads, so a few overlap usefully. */
export const IMPORT_CONCURRENCY = Math.max(2, Math.min(4, os.availableParallelism()));

interface PairContext extends InspectContext {
  report: ImportReport;
}

async function importPair(project: ImportTarget, request: ImportRequest, pair: PlannedPair, context: PairContext): Promise<ImageEntry[]> {
  const inspection = await inspectPair(project, request, pair, context);
  const { report } = context;
  if (inspection.duplicateOf) report.warnings.push(inspection.duplicateOf);
  report.warnings.push(...inspection.notes);
  const { info, contentHash } = inspection;
  if (!info) return [];
  const extension = path.extname(pair.image).toLowerCase();
  const storedFile = `images/${inspection.fileId}${extension}`;
  let copied = false;
  const entries: ImageEntry[] = [];
  for (const page of inspection.pages) {
    if (page.kind === 'present') {
      report.alreadyPresent += 1;
      report.warnings.push(page.note);
    } else if (page.kind === 'add-mask') {
      const added = await project.addMissingMask(page.id, await encodeMaskPng(page.labels), page.status);
      if (added) report.masksAdded += 1;
      else report.warnings.push(maskKept(pair.image, page.id));
    } else {
      if (page.maskProblem) report.warnings.push(page.maskProblem);
      if (!copied) await writeFileAtomic(await project.resolve(storedFile), inspection.bytes);
      copied = true;
      entries.push(await importPage(project, pair, page, { info, contentHash, storedFile }));
    }
  }
  return entries;
}

/** Writes a new page's thumbnail and mask; its entry, for project.json. */
async function importPage(
  project: ImportTarget,
  pair: PlannedPair,
  { id, page, raster, labels }: Extract<InspectedPage, { kind: 'new' }>,
  file: { info: ImageInfo; contentHash: string; storedFile: string },
): Promise<ImageEntry> {
  await writeThumbnail(raster, await project.resolve(thumbnailRelativePath(id)));
  let mask: string | null = null;
  if (labels) {
    mask = maskRelativePath(id);
    await writeFileAtomic(await project.resolve(mask), await encodeMaskPng(labels), { keepBackup: true });
  }
  return {
    id,
    file: file.storedFile,
    page,
    originalName: displayName(path.basename(pair.image)),
    contentHash: file.contentHash,
    format: file.info.format,
    width: raster.width,
    height: raster.height,
    channels: raster.channels,
    bitDepth: raster.bitDepth,
    // In scribble mode a mask's 255 pixels are unlabelled: such an image comes in partly labelled.
    status: labels ? statusOfMask({ status: 'unlabelled' }, labels.labels, project.settings.scribble) : 'unlabelled',
    split: 'auto',
    tags: [],
    mask,
    addedAt: new Date().toISOString(),
  };
}

/** The warning when an image got a mask of its own (painted) while the import was preparing one for it. */
export function maskKept(file: string, id: string): FileProblem {
  return { file, code: 'mask_kept', message: `${file}: image "${id}" got a mask of its own while this import ran; it keeps that mask, and the imported one is not used.` };
}
