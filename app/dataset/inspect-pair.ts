import { createHash } from 'node:crypto';
import path from 'node:path';
import { throwIfCancelled, toContractError } from '../contract/errors.js';
import type { FileProblem, ImageEntry, ImageStatus, ImportRequest, PlannedPair } from '../contract/schemas.js';
import { isScribbleImage, statusOfMask } from '../contract/scribble.js';
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

/** What the import needs to know of an image already in the project. */
type KnownImage = Pick<ImageEntry, 'id' | 'mask' | 'status' | 'scribble' | 'width' | 'height'>;

/** The state one import (or its preview) shares across its files. */
export interface InspectContext {
  /** content hash + page -> the image already holding it */
  known: Map<string, KnownImage>;
  /** content hash -> the file of this import that brought it (two copies of one file import once) */
  importedFrom: Map<string, string>;
  /** image file -> the id planned for it (plannedImageIds) */
  ids: Map<string, string>;
  /** Ids handed out so far (the planned file ids, then each page's), so none is given twice. */
  reserved: Set<string>;
  signal: AbortSignal | undefined;
}

export function inspectContext(target: InspectTarget, pairs: readonly PlannedPair[], signal: AbortSignal | undefined): InspectContext {
  const ids = plannedImageIds(target, pairs);
  return {
    known: new Map(target.images.map((image) => [`${image.contentHash}#${image.page}`, image])),
    importedFrom: new Map(),
    ids,
    reserved: new Set(ids.values()),
    signal,
  };
}

/**
 * One page of an image file as the import treats it: a new image (with its mask, or unlabelled and
 * why), an image already in the project that gets the mask it lacked (a mask fixed after an
 * earlier import), or one already in the project and left as it is (and why).
 */
export type InspectedPage =
  | { kind: 'new'; page: number; id: string; raster: RasterImage; labels: LabelMap | null; maskProblem: FileProblem | null }
  | { kind: 'add-mask'; page: number; id: string; labels: LabelMap; status: ImageStatus; note: FileProblem }
  | { kind: 'present'; page: number; id: string; note: FileProblem };

/** Everything the import learns about one image file (and its mask) before it writes anything. */
export interface Inspection {
  bytes: Buffer;
  contentHash: string;
  /** Null for a copy of another file of this import (not decoded). */
  info: ImageInfo | null;
  /** The id of the file: its single image's, and the stem of its pages' ids. */
  fileId: string;
  /** Whether each page of the file is an image of its own (a multi-page TIFF with tiffPages "all"). */
  paged: boolean;
  /** Each page it brings; empty for a copy of another file of this import. */
  pages: InspectedPage[];
  /** Why nothing of it is imported because another file of this import has the same content; else null. */
  duplicateOf: FileProblem | null;
  /** Warnings about the file as a whole that do not stop it. */
  notes: FileProblem[];
}

/**
 * The checks an import makes on one image file and its mask, in one place, so the preview and the
 * import can never disagree: reads and hashes the file, decodes each page it will import (a
 * truncated or mislabelled file throws here, before anything is copied) and its mask, and names
 * each new page. A mask that cannot be used (wrong size, values that are not classes, corrupt)
 * leaves its page unlabelled, with the reason; it does not cost the image. A page already in the
 * project without a mask gets this mask when it can be used; one that has a mask keeps it.
 */
export async function inspectPair(target: InspectTarget, request: ImportRequest, pair: PlannedPair, context: InspectContext): Promise<Inspection> {
  const maxPixels = request.maxPixels ?? target.settings.maxImagePixels;
  const bytes = await readRegularFile(pair.image, { ...DATA_FILE, errorCode: 'invalid_image' });
  const contentHash = createHash('sha256').update(bytes).digest('hex');
  const fileId = context.ids.get(pair.image)!;
  const notes: FileProblem[] = [];
  // Claimed before the next await, so a copy being inspected at the same moment sees it.
  const twin = context.importedFrom.get(contentHash);
  if (twin !== undefined) {
    const duplicateOf = { file: pair.image, code: 'duplicate', message: `${pair.image}: same content as ${twin} in this import; imported once.` };
    return { bytes, contentHash, info: null, fileId, paged: false, pages: [], duplicateOf, notes };
  }
  context.importedFrom.set(contentHash, pair.image);
  if (hasEscapedBytes(pair.image)) {
    notes.push({ file: pair.image, code: 'file_name', message: `${pair.image}: its name is not valid UTF-8 (the bytes that are not are shown as \uFFFD); it was read by its exact bytes.` });
  }
  const info = await probeImage(pair.image, { maxPixels });
  const pageNumbers = choosePages(pair.image, info.format, info.pages, request.tiffPages ?? target.settings.tiffPages, notes);
  const paged = pageNumbers.length > 1;
  const mask = (page: number, width: number, height: number): Promise<LabelMap> => readMask(target, request, pair, { page: paged ? page : undefined, width, height, maxPixels });

  const pages: InspectedPage[] = [];
  for (const page of pageNumbers) {
    throwIfCancelled(context.signal);
    const which = paged ? ` (page ${page + 1})` : '';
    const existing = context.known.get(`${contentHash}#${page}`);
    if (existing !== undefined) {
      pages.push(await existingPage(target, pair, existing, page, which, () => mask(page, existing.width, existing.height), context.signal));
      continue;
    }
    const raster = await readRaster(pair.image, { maxPixels, page });
    let [labels, maskProblem]: [LabelMap | null, FileProblem | null] = [null, null];
    if (pair.mask) {
      try {
        labels = await mask(page, raster.width, raster.height);
      } catch (err) {
        throwIfCancelled(context.signal);
        maskProblem = maskNotUsed(pair.image, `${pair.image}${which}: imported unlabelled because its mask cannot be used`, err);
      }
    }
    const id = paged ? target.uniqueImageId(`${fileId}_p${String(page + 1).padStart(3, '0')}`, context.reserved) : fileId;
    context.reserved.add(id);
    pages.push({ kind: 'new', page, id, raster, labels, maskProblem });
  }
  if (pair.roi && !pair.mask && pages.some((page) => page.kind === 'new')) {
    notes.push({ file: pair.roi, code: 'invalid_mask', message: `${pair.roi}: region of interest ignored because ${path.basename(pair.image)} has no mask.` });
  }
  return { bytes, contentHash, info, fileId, paged, pages, duplicateOf: null, notes };
}

/** A page already in the project: it gets the mask found for it only when it has none. */
async function existingPage(
  target: InspectTarget,
  pair: PlannedPair,
  existing: KnownImage,
  page: number,
  which: string,
  mask: () => Promise<LabelMap>,
  signal: AbortSignal | undefined,
): Promise<InspectedPage> {
  const same = `${pair.image}${which}: same content as image "${existing.id}" already in the project`;
  const present = (message: string): InspectedPage => ({ kind: 'present', page, id: existing.id, note: { file: pair.image, code: 'already_present', message } });
  if (!pair.mask) return present(`${same}; not imported again.`);
  if (existing.mask !== null) return present(`${same}, which has a mask of its own: it keeps that mask, and ${pair.mask} is not used.`);
  try {
    const labels = await mask();
    const status = statusOfMask(existing, labels.labels, isScribbleImage(target.settings, existing));
    return { kind: 'add-mask', page, id: existing.id, labels, status, note: { file: pair.image, code: 'mask_added', message: `${same} without a mask: ${pair.mask} is added to it.` } };
  } catch (err) {
    throwIfCancelled(signal);
    return { kind: 'present', page, id: existing.id, note: maskNotUsed(pair.image, `${same} without a mask, and stays unlabelled because its mask cannot be used`, err) };
  }
}

/** The mask of one page of an image, decoded with the import's options (and its region of interest applied). */
async function readMask(target: InspectTarget, request: ImportRequest, pair: PlannedPair, size: { page: number | undefined; width: number; height: number; maxPixels: number }): Promise<LabelMap> {
  const labels = await decodeMask(pair.mask!, {
    mode: request.maskMode,
    classes: target.classes,
    expectedWidth: size.width,
    expectedHeight: size.height,
    maxPixels: size.maxPixels,
    ...(size.page !== undefined ? { page: size.page } : {}),
  });
  if (pair.roi) await applyRegionOfInterest(labels, pair.roi, { maxPixels: size.maxPixels });
  return labels;
}

/** The reason the mask found for a page is not used: what happens instead, and the mask's problem. */
function maskNotUsed(file: string, outcome: string, err: unknown): FileProblem {
  const error = toContractError(err);
  return { file, code: 'mask_not_used', message: `${outcome}: ${error.message}` };
}

/**
 * The id each image file of an import will get, decided up front in the import's order (not in the
 * order files finish decoding), so the preview shows the names the import then gives.
 */
function plannedImageIds(target: Pick<InspectTarget, 'uniqueImageId'>, pairs: readonly PlannedPair[]): Map<string, string> {
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
