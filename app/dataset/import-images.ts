import { statusOfMask } from '../contract/scribble.js';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { AppError, throwIfCancelled, toContractError } from '../contract/errors.js';
import type { FileProblem, ImageEntry, ImportPlan, ImportReport, ImportRequest } from '../contract/schemas.js';
import { probeImage, readRaster } from '../imaging/read-image.js';
import { writeThumbnail } from '../imaging/thumbnail.js';
import { runPool } from '../jobs/run-pool.js';
import { decodeMask } from '../masks/decode-mask.js';
import { encodeMaskPng } from '../masks/mask-png.js';
import { applyRegionOfInterest } from '../masks/roi.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { DATA_FILE, readRegularFile } from '../files/regular-file.js';
import type { Project } from '../project/project.js';
import { THUMBNAIL_FOLDER, maskRelativePath, thumbnailRelativePath } from '../project/project-layout.js';
import { fileStem, listImageFiles } from './list-files.js';
import { planMatches } from './match-masks.js';
import { makeFolder } from '../files/make-folder.js';
import { displayName, hasEscapedBytes } from '../files/file-name.js';

/**
 * Where imported images go: the project itself (CLI, tests), or an import worker's view of it whose
 * new entries the host adds to project.json (dataset/worker/importer-process.ts).
 */
export type ImportTarget = Pick<Project, 'root' | 'classes' | 'settings' | 'images' | 'resolve' | 'uniqueImageId' | 'addImages' | 'claimWrites' | 'takeCleanupNotice'>;

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
 * Imports images (and their masks) into a project. Each file is validated on its own: a broken image
 * or mask is reported and skipped while the rest imports, and project.json stays valid throughout.
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
    labelled: 0,
    unlabelled: 0,
    skipped: [...plan.problems],
    warnings: cleanup ? [cleanupWarning(project.root, cleanup)] : [],
    unmatchedMasks: plan.unmatchedMasks,
    durationMs: 0,
  };
  const known = new Map(project.images.map((image) => [`${image.contentHash}#${image.page}`, image.id]));
  const importedFrom = new Map<string, string>();
  const reservedIds = new Set<string>();
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
      Math.max(2, Math.min(4, os.availableParallelism())),
      async (pair) => {
        try {
          const entries = await importPair(project, request, pair, { known, importedFrom, reservedIds, report, signal });
          for (const entry of entries) {
            report.imported += 1;
            if (entry.mask) report.labelled += 1;
            else report.unlabelled += 1;
          }
          batch.push(...entries);
          if (batch.length >= SAVE_EVERY) await flush();
        } catch (err) {
          if (signal?.aborted) throw err;
          const error = toContractError(err);
          report.skipped.push({ file: pair.image, code: error.code, message: error.message });
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

interface PairContext {
  /** content hash + page -> id of the image already holding it */
  known: Map<string, string>;
  /** content hash -> the file of this import that brought it (two copies of one file import once) */
  importedFrom: Map<string, string>;
  reservedIds: Set<string>;
  report: ImportReport;
  signal: AbortSignal | undefined;
}

async function importPair(project: ImportTarget, request: ImportRequest, pair: ImportPlan['pairs'][number], context: PairContext): Promise<ImageEntry[]> {
  const maxPixels = request.maxPixels ?? project.settings.maxImagePixels;
  const bytes = await readRegularFile(pair.image, { ...DATA_FILE, errorCode: 'invalid_image' });
  const contentHash = createHash('sha256').update(bytes).digest('hex');
  // Claimed before the next await, so a copy being imported at the same moment sees it.
  const twin = context.importedFrom.get(contentHash);
  if (twin !== undefined) {
    context.report.warnings.push({ file: pair.image, code: 'duplicate', message: `${pair.image}: same content as ${twin} in this import; imported once.` });
    return [];
  }
  context.importedFrom.set(contentHash, pair.image);
  if (hasEscapedBytes(pair.image)) {
    context.report.warnings.push({ file: pair.image, code: 'file_name', message: `${pair.image}: its name is not valid UTF-8 (the bytes that are not are shown as \uFFFD); it was read by its exact bytes.` });
  }
  const info = await probeImage(pair.image, { maxPixels });
  const pages = choosePages(pair.image, info.format, info.pages, request.tiffPages ?? project.settings.tiffPages, context.report.warnings);

  const prepared = [];
  for (const page of pages) {
    throwIfCancelled(context.signal);
    const existing = context.known.get(`${contentHash}#${page}`);
    if (existing !== undefined) {
      context.report.alreadyPresent += 1;
      const which = pages.length > 1 ? ` (page ${page + 1})` : '';
      context.report.warnings.push({ file: pair.image, code: 'already_present', message: `${pair.image}${which}: same content as image "${existing}" already in the project; not imported again.` });
      continue;
    }
    const raster = await readRaster(pair.image, { maxPixels, page });
    let labels = null;
    if (pair.mask) {
      labels = await decodeMask(pair.mask, {
        mode: request.maskMode,
        classes: project.classes,
        expectedWidth: raster.width,
        expectedHeight: raster.height,
        maxPixels,
        ...(pages.length > 1 ? { page } : {}),
      });
      if (pair.roi) await applyRegionOfInterest(labels, pair.roi, { maxPixels });
    } else if (pair.roi) {
      context.report.warnings.push({ file: pair.roi, code: 'invalid_mask', message: `${pair.roi}: region of interest ignored because ${path.basename(pair.image)} has no mask.` });
    }
    prepared.push({ page, raster, labels });
  }
  if (prepared.length === 0) return [];

  const stem = fileStem(pair.image);
  const extension = path.extname(pair.image).toLowerCase();
  const fileId = project.uniqueImageId(stem, context.reservedIds);
  context.reservedIds.add(fileId);
  const storedFile = `images/${fileId}${extension}`;
  await writeFileAtomic(await project.resolve(storedFile), bytes);

  const entries: ImageEntry[] = [];
  for (const { page, raster, labels } of prepared) {
    const id = pages.length > 1 ? project.uniqueImageId(`${fileId}_p${String(page + 1).padStart(3, '0')}`, context.reservedIds) : fileId;
    context.reservedIds.add(id);
    await writeThumbnail(raster, await project.resolve(thumbnailRelativePath(id)));
    let mask: string | null = null;
    if (labels) {
      mask = maskRelativePath(id);
      await writeFileAtomic(await project.resolve(mask), await encodeMaskPng(labels), { keepBackup: true });
    }
    context.known.set(`${contentHash}#${page}`, id);
    entries.push({
      id,
      file: storedFile,
      page,
      originalName: displayName(path.basename(pair.image)),
      contentHash,
      format: info.format,
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
    });
  }
  return entries;
}

/** Multi-page files: every page as its own image (TIFF with tiffPages "all"), else the first, and say so. */
function choosePages(file: string, format: string, pageCount: number, tiffPages: 'first' | 'all', warnings: FileProblem[]): number[] {
  if (pageCount <= 1) return [0];
  if (format === 'tiff' && tiffPages === 'all') return Array.from({ length: pageCount }, (_, page) => page);
  const hint = format === 'tiff' ? ' (use --tiff-pages all to import each page as an image)' : '';
  warnings.push({ file, code: 'multi_page', message: `${file}: has ${pageCount} pages; imported page 1 only${hint}.` });
  return [0];
}
