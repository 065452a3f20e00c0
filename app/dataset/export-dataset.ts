import path from 'node:path';
import sharp from 'sharp';
import { AppError, throwIfCancelled, toContractError } from '../contract/errors.js';
import type { ExportDatasetReport, ExportDatasetRequest, ImageEntry } from '../contract/schemas.js';
import { readRaster } from '../imaging/read-image.js';
import { copyFileAtomic, writeFileAtomic } from '../files/atomic-write.js';
import { folderEntries } from '../files/folder-entries.js';
import type { Project } from '../project/project.js';
import { assignSplits } from './splits.js';
import type { ImportCallbacks } from './import-images.js';
import { makeFolder } from '../files/make-folder.js';

/**
 * Writes the labelled images in the reference PyTorch tools' layout: `data/imgs/<id>.<ext>` and
 * `data/masks/<id><suffix>.png` (label values = class ids, 255 = ignore), so work can continue there.
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
  const report: ExportDatasetReport = { out, images: 0, skipped: [] };
  for (const [index, image] of chosen.entries()) {
    throwIfCancelled(callbacks.signal);
    try {
      // The image first: a pair whose image cannot be exported leaves no mask behind.
      await exportImage(project, image, imagesDir);
      await copyFileAtomic(await project.resolve(image.mask!), path.join(masksDir, `${image.id}${request.maskSuffix}.png`));
      report.images += 1;
    } catch (err) {
      const error = toContractError(err);
      report.skipped.push({ file: image.file, code: error.code, message: error.message });
    }
    callbacks.onProgress?.(index + 1, chosen.length, image.id);
  }
  return report;
}

/** Single-page files are copied as they are (bit depth kept); a page of a multi-page file becomes a PNG. */
async function exportImage(project: Project, image: ImageEntry, imagesDir: string): Promise<void> {
  const source = await project.resolve(image.file);
  if (!sharesFile(image, project)) {
    await copyFileAtomic(source, path.join(imagesDir, `${image.id}${path.extname(image.file)}`));
    return;
  }
  const raster = await readRaster(source, { maxPixels: project.settings.maxImagePixels, page: image.page });
  const png = await sharp(Buffer.from(raster.data.buffer, raster.data.byteOffset, raster.data.byteLength), {
    raw: { width: raster.width, height: raster.height, channels: raster.channels, ...(raster.bitDepth === 16 ? { depth: 'ushort' as const } : {}) },
  })
    .png()
    .toBuffer();
  await writeFileAtomic(path.join(imagesDir, `${image.id}.png`), png);
}

function sharesFile(image: ImageEntry, project: Project): boolean {
  return project.images.some((other) => other !== image && other.file === image.file);
}
