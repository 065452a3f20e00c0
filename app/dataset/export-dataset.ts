import path from 'node:path';
import sharp from 'sharp';
import { AppError, throwIfCancelled, toContractError } from '../contract/errors.js';
import type { ExportDatasetReport, ExportDatasetRequest, ImageEntry } from '../contract/schemas.js';
import { copyFileAtomic, writeFileAtomic } from '../files/atomic-write.js';
import { folderEntries } from '../files/folder-entries.js';
import { toDisplay8 } from '../imaging/normalise.js';
import { colourChannelCount, readRaster, type RasterImage } from '../imaging/read-image.js';
import { IGNORE_LABEL } from '../contract/schemas.js';
import { encodeMaskPng, readMaskPng } from '../masks/mask-png.js';
import type { Project } from '../project/project.js';
import type { ImportCallbacks } from './import-images.js';
import { makeFolder } from '../files/make-folder.js';
import { assignSplits } from './splits.js';

/**
 * Writes the labelled images in the reference PyTorch tools' layout: `data/imgs/<id>.<ext>` and
 * `data/masks/<id><suffix>.png` (label values = class ids). Ignore pixels (255) become background
 * unless `ignore: 'keep'`, since the reference train.py numbers every mask value it finds as a class;
 * with `channels: 3` every image is written as 8-bit RGB, as its network takes 3 input channels.
 */
export async function exportDataset(project: Project, request: Omit<ExportDatasetRequest, 'project'>, callbacks: ImportCallbacks = {}): Promise<ExportDatasetReport> {
  const out = path.resolve(request.out);
  const imagesDir = path.join(out, 'data', 'imgs');
  const masksDir = path.join(out, 'data', 'masks');
  const existing = await folderEntries(imagesDir);
  if (existing.length > 0) {
    throw new AppError('conflict', `${imagesDir} already has files; export into an empty folder so nothing is overwritten.`, { path: imagesDir });
  }
  await makeFolder(imagesDir);
  await makeFolder(masksDir);
  const labelled = project.images.filter((image) => image.mask !== null);
  const splits = assignSplits(labelled, project.settings);
  const chosen = labelled.filter((image) => request.split === 'all' || splits.get(image.id) === request.split);
  const report: ExportDatasetReport = { out, images: 0, skipped: [], ignoreToBackground: 0, absentClasses: [] };
  const present = new Set<number>();
  for (const [index, image] of chosen.entries()) {
    throwIfCancelled(callbacks.signal);
    if (image.status === 'partial' && request.ignore === 'background') {
      // Its unpainted pixels are unknown, not background: turning them into background would teach the wrong thing.
      report.skipped.push({ file: image.file, code: 'partly_labelled', message: `${image.originalName} is partly labelled (scribble mode): its unpainted pixels are not background; export with --ignore keep to keep them as 255.` });
      callbacks.onProgress?.(index + 1, chosen.length, image.id);
      continue;
    }
    try {
      // The image first: a pair whose image cannot be exported leaves no mask behind.
      await exportImage(project, image, imagesDir, request.channels);
      const storedMask = await project.resolve(image.mask!);
      const mask = await readMaskPng(storedMask);
      const maskFile = path.join(masksDir, `${image.id}${request.maskSuffix}.png`);
      let ignored = false;
      for (let p = 0; p < mask.labels.length; p++) {
        if (mask.labels[p] !== IGNORE_LABEL) present.add(mask.labels[p]!);
        else ignored = true;
      }
      if (ignored && request.ignore === 'background') {
        await writeFileAtomic(maskFile, await encodeMaskPng({ ...mask, labels: mask.labels.map((label) => (label === IGNORE_LABEL ? 0 : label)) }));
        report.ignoreToBackground += 1;
      } else {
        await copyFileAtomic(storedMask, maskFile);
      }
      report.images += 1;
    } catch (err) {
      const error = toContractError(err);
      report.skipped.push({ file: image.file, code: error.code, message: error.message });
    }
    callbacks.onProgress?.(index + 1, chosen.length, image.id);
  }
  if (report.images > 0) report.absentClasses = project.classes.filter((entry) => !present.has(entry.id)).map((entry) => entry.name);
  return report;
}

/**
 * Single-page files are copied as they are (bit depth kept); a page of a multi-page file becomes a
 * PNG. With `channels: 3`, only 8-bit RGB files are copied; the others become 8-bit RGB PNGs (grey
 * repeated, alpha dropped, 16-bit values mapped by the normalisation rule, as the studio shows them).
 */
async function exportImage(project: Project, image: ImageEntry, imagesDir: string, channels: 3 | undefined): Promise<void> {
  const source = await project.resolve(image.file);
  const asRgb = channels === 3 && !(image.channels === 3 && image.bitDepth === 8);
  if (!sharesFile(image, project) && !asRgb) {
    await copyFileAtomic(source, path.join(imagesDir, `${image.id}${path.extname(image.file)}`));
    return;
  }
  const raster = await readRaster(source, { maxPixels: project.settings.maxImagePixels, page: image.page });
  await writeFileAtomic(path.join(imagesDir, `${image.id}.png`), await (asRgb ? rgbPng(raster) : storedPng(raster)));
}

/** The raster as stored; sharp takes the sample type (8 or 16 bits) from the typed array. */
function storedPng(raster: RasterImage): Promise<Buffer> {
  const grey = colourChannelCount(raster.channels) === 1;
  const space = grey ? (raster.bitDepth === 16 ? 'grey16' : 'b-w') : raster.bitDepth === 16 ? 'rgb16' : 'srgb';
  return sharp(raster.data, { raw: { width: raster.width, height: raster.height, channels: raster.channels } }).toColourspace(space).png().toBuffer();
}

function rgbPng(raster: RasterImage): Promise<Buffer> {
  const display = toDisplay8(raster);
  const colour = colourChannelCount(raster.channels);
  const rgb = new Uint8Array(raster.width * raster.height * 3);
  for (let p = 0; p < raster.width * raster.height; p++) {
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = display[p * raster.channels + (colour === 3 ? c : 0)]!;
  }
  return sharp(rgb, { raw: { width: raster.width, height: raster.height, channels: 3 } }).png().toBuffer();
}

function sharesFile(image: ImageEntry, project: Project): boolean {
  return project.images.some((other) => other !== image && other.file === image.file);
}
