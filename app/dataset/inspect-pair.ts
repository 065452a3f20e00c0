import { createHash } from 'node:crypto';
import path from 'node:path';
import { throwIfCancelled, toContractError } from '../contract/errors.js';
import type { FileProblem, ImportRequest, PlannedPair } from '../contract/schemas.js';
import { hasEscapedBytes } from '../files/file-name.js';
import { DATA_FILE, readRegularFile } from '../files/regular-file.js';
import type { ImageInfo } from '../imaging/image-info.js';
import { type RasterImage, probeImage, readRaster } from '../imaging/read-image.js';
import { decodeMask } from '../masks/decode-mask.js';
import type { LabelMap } from '../masks/label-map.js';
import { applyRegionOfInterest } from '../masks/roi.js';
import type { Project } from '../project/project.js';
import { fileStem } from './list-files.js';

/** What inspecting an image file needs of the project it goes into. */
export type InspectTarget = Pick<Project, 'classes' | 'settings' | 'images' | 'uniqueImageId'>;

/** The state one import (or its preview) shares across its files. */
export interface InspectContext {
  /** content hash + page -> id of the image already holding it */
  known: Map<string, string>;
  /** content hash -> the file of this import that brought it (two copies of one file import once) */
  importedFrom: Map<string, string>;
  signal: AbortSignal | undefined;
}

export function inspectContext(target: InspectTarget, signal: AbortSignal | undefined): InspectContext {
  return { known: new Map(target.images.map((image) => [`${image.contentHash}#${image.page}`, image.id])), importedFrom: new Map(), signal };
}

export interface PreparedPage {
  page: number;
  raster: RasterImage;
  labels: LabelMap | null;
}

/** Everything the import learns about one image file (and its mask) before it writes anything. */
export interface Inspection {
  bytes: Buffer;
  contentHash: string;
  /** Null for a copy of another file of this import (not decoded). */
  info: ImageInfo | null;
  /** How many pages the file brings (1 unless a multi-page TIFF is imported page by page). */
  pageCount: number;
  /** The pages to import; empty when the file is already in the project or a copy of another. */
  prepared: PreparedPage[];
  /** Why nothing of it is imported (same content as a project image or another file), else null. */
  notImported: FileProblem | null;
  /** Why its mask is not used, the image coming in unlabelled; null when it has none or it is used. */
  maskProblem: FileProblem | null;
  /** Warnings about this file that do not stop it. */
  notes: FileProblem[];
  /** Pages already in the project. */
  present: number;
}

/**
 * The checks an import makes on one image file and its mask, in one place, so the preview and the
 * import can never disagree: reads and hashes the file, decodes each page it will import (a
 * truncated or mislabelled file throws here, before anything is copied) and its mask. A mask that
 * cannot be used (wrong size, values that are not classes, corrupt) leaves the image unlabelled,
 * with the reason; it does not cost the image.
 */
export async function inspectPair(target: InspectTarget, request: ImportRequest, pair: PlannedPair, context: InspectContext): Promise<Inspection> {
  const maxPixels = request.maxPixels ?? target.settings.maxImagePixels;
  const bytes = await readRegularFile(pair.image, { ...DATA_FILE, errorCode: 'invalid_image' });
  const contentHash = createHash('sha256').update(bytes).digest('hex');
  const notes: FileProblem[] = [];
  const inspection = (fields: Partial<Inspection> & Pick<Inspection, 'info' | 'pageCount'>): Inspection => ({
    bytes,
    contentHash,
    prepared: [],
    notImported: null,
    maskProblem: null,
    notes,
    present: 0,
    ...fields,
  });
  // Claimed before the next await, so a copy being inspected at the same moment sees it.
  const twin = context.importedFrom.get(contentHash);
  if (twin !== undefined) {
    return inspection({ info: null, pageCount: 0, notImported: { file: pair.image, code: 'duplicate', message: `${pair.image}: same content as ${twin} in this import; imported once.` } });
  }
  context.importedFrom.set(contentHash, pair.image);
  if (hasEscapedBytes(pair.image)) {
    notes.push({ file: pair.image, code: 'file_name', message: `${pair.image}: its name is not valid UTF-8 (the bytes that are not are shown as \uFFFD); it was read by its exact bytes.` });
  }
  const info = await probeImage(pair.image, { maxPixels });
  const pages = choosePages(pair.image, info.format, info.pages, request.tiffPages ?? target.settings.tiffPages, notes);

  const prepared: PreparedPage[] = [];
  let maskProblem: FileProblem | null = null;
  const present: FileProblem[] = [];
  for (const page of pages) {
    throwIfCancelled(context.signal);
    const existing = context.known.get(`${contentHash}#${page}`);
    if (existing !== undefined) {
      const which = pages.length > 1 ? ` (page ${page + 1})` : '';
      present.push({ file: pair.image, code: 'already_present', message: `${pair.image}${which}: same content as image "${existing}" already in the project; not imported again.` });
      continue;
    }
    const raster = await readRaster(pair.image, { maxPixels, page });
    let labels: LabelMap | null = null;
    if (pair.mask && !maskProblem) {
      try {
        labels = await decodeMask(pair.mask, {
          mode: request.maskMode,
          classes: target.classes,
          expectedWidth: raster.width,
          expectedHeight: raster.height,
          maxPixels,
          ...(pages.length > 1 ? { page } : {}),
        });
        if (pair.roi) await applyRegionOfInterest(labels, pair.roi, { maxPixels });
      } catch (err) {
        throwIfCancelled(context.signal);
        labels = null;
        maskProblem = maskNotUsed(pair.image, err);
      }
    } else if (pair.roi && !pair.mask) {
      notes.push({ file: pair.roi, code: 'invalid_mask', message: `${pair.roi}: region of interest ignored because ${path.basename(pair.image)} has no mask.` });
    }
    prepared.push({ page, raster, labels });
  }
  notes.push(...present);
  return inspection({ info, pageCount: pages.length, prepared, present: present.length, maskProblem, notImported: prepared.length === 0 ? (present[0] ?? null) : null });
}

/** The reason an image comes in unlabelled although a mask was found for it. */
function maskNotUsed(image: string, err: unknown): FileProblem {
  const error = toContractError(err);
  return { file: image, code: 'mask_not_used', message: `${image}: imported unlabelled because its mask cannot be used: ${error.message}` };
}

/**
 * The id each image file of an import will get, decided up front in the import's order (not in the
 * order files finish decoding), so the preview shows the names the import then gives.
 */
export function plannedImageIds(target: Pick<InspectTarget, 'uniqueImageId'>, pairs: readonly PlannedPair[]): Map<string, string> {
  const reserved = new Set<string>();
  const ids = new Map<string, string>();
  for (const pair of pairs) {
    const id = target.uniqueImageId(fileStem(pair.image), reserved);
    reserved.add(id);
    ids.set(pair.image, id);
  }
  return ids;
}

/** Multi-page files: every page as its own image (TIFF with tiffPages "all"), else the first, and say so. */
function choosePages(file: string, format: string, pageCount: number, tiffPages: 'first' | 'all', warnings: FileProblem[]): number[] {
  if (pageCount <= 1) return [0];
  if (format === 'tiff' && tiffPages === 'all') return Array.from({ length: pageCount }, (_, page) => page);
  const hint = format === 'tiff' ? ' (use --tiff-pages all to import each page as an image)' : '';
  warnings.push({ file, code: 'multi_page', message: `${file}: has ${pageCount} pages; imported page 1 only${hint}.` });
  return [0];
}

/** An inspection error as the problem that skips its file. */
export function skipProblem(file: string, err: unknown): FileProblem {
  const error = toContractError(err);
  return { file, code: error.code, message: error.message };
}
