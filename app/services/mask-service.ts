import { stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { deflate, inflate } from 'node:zlib';
import { AppError } from '../contract/errors.js';
import { IGNORE_LABEL, type ImageEntry } from '../contract/schemas.js';
import type { LabelMapPayload, TilePatch } from '../contract/studio.js';
import type { LabelMap } from '../masks/label-map.js';
import { encodeMaskPng, readMaskPng } from '../masks/mask-png.js';
import { shrinkLabelMap } from '../masks/mask-thumbnail.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { makeFolder } from '../files/make-folder.js';
import { isScribbleImage, statusOfMask, unpaintedLabel } from '../contract/scribble.js';
import type { Project } from '../project/project.js';
import { maskThumbnailRelativePath, predictionRelativePath } from '../project/project-layout.js';

const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);

/**
 * The editor's host side: sends label maps (deflated: a mask compresses to a few percent) and
 * applies the editor's tile patches onto the stored mask. Patches for one image are applied one
 * after another, and the last edited mask stays decoded so an autosave costs one PNG encode.
 */
export class MaskService {
  private readonly queues = new Map<string, Promise<unknown>>();
  private recent: { key: string; map: LabelMap; modified: number } | null = null;

  async mask(project: Project, id: string): Promise<LabelMapPayload> {
    const entry = project.image(id);
    const key = cacheKey(project, id);
    return this.serialised(key, async () => payload(entry, await this.storedMask(project, entry)));
  }

  /**
   * The mask at thumbnail size for the dataset grid (exists: false while unlabelled). Cached in the
   * thumbnail folder and made again when the mask is newer than the cached copy.
   */
  async thumbnail(project: Project, id: string): Promise<LabelMapPayload> {
    const entry = project.image(id);
    if (!entry.mask) return { width: 1, height: 1, encoding: 'deflate', exists: false, base64: '' };
    const mask = await project.resolve(entry.mask);
    const cache = await project.resolve(maskThumbnailRelativePath(id));
    const [maskTime, cacheTime] = await Promise.all([modifiedTime(mask), modifiedTime(cache)]);
    let small: LabelMap;
    if (cacheTime >= maskTime && maskTime >= 0) small = await readMaskPng(cache);
    else {
      small = await shrinkLabelMap(await this.serialised(cacheKey(project, id), () => readMaskPng(mask)));
      await makeFolder(path.dirname(cache));
      await writeFileAtomic(cache, await encodeMaskPng(small));
    }
    return labelPayload(small);
  }

  async prediction(project: Project, id: string): Promise<LabelMapPayload> {
    const entry = project.image(id);
    const map = await readMaskPng(await project.resolve(predictionRelativePath(id))).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'not_found') return null;
      throw err;
    });
    if (map && (map.width !== entry.width || map.height !== entry.height)) {
      throw new AppError('invalid_mask', `The prediction for ${entry.originalName} is ${map.width}x${map.height} but the image is ${entry.width}x${entry.height}; segment the image again.`);
    }
    return payload(entry, map);
  }

  /**
   * Writes the patched mask atomically (creating it if absent: unpainted pixels are background, or
   * unlabelled in scribble mode) and sets the image's status (statusOfMask).
   */
  async patch(project: Project, id: string, tiles: readonly TilePatch[]): Promise<ImageEntry> {
    const entry = project.image(id);
    const key = cacheKey(project, id);
    return this.serialised(key, async () => {
      const decoded = await Promise.all(tiles.map((tile) => decodeTile(entry, tile, project.classes.length)));
      const current = await this.storedMask(project, entry);
      const scribble = isScribbleImage(project.settings, entry);
      const map: LabelMap = current ?? { width: entry.width, height: entry.height, labels: new Uint8Array(entry.width * entry.height).fill(unpaintedLabel(scribble)) };
      this.recent = null; // patched in place below: only a saved map is kept
      for (const { tile, labels } of decoded) {
        for (let row = 0; row < tile.height; row++) {
          map.labels.set(labels.subarray(row * tile.width, (row + 1) * tile.width), (tile.y + row) * entry.width + tile.x);
        }
      }
      await project.writeMask(id, map, statusOfMask(entry, map.labels, scribble));
      this.recent = { key, map, modified: await modifiedTime(await project.resolve(project.image(id).mask!)) };
      return structuredClone(project.image(id));
    });
  }

  /** The stored mask, from the cache when the file is still the one this service wrote. */
  private async storedMask(project: Project, entry: ImageEntry): Promise<LabelMap | null> {
    if (!entry.mask) return null;
    const file = await project.resolve(entry.mask);
    const key = cacheKey(project, entry.id);
    if (this.recent?.key === key && this.recent.modified === (await modifiedTime(file))) return this.recent.map;
    return readMaskPng(file);
  }

  private serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return next;
  }
}

async function modifiedTime(file: string): Promise<number> {
  return (await stat(file).catch(() => null))?.mtimeMs ?? -1;
}

function cacheKey(project: Project, id: string): string {
  return `${project.root}\0${id}`;
}

async function payload(entry: ImageEntry, map: LabelMap | null): Promise<LabelMapPayload> {
  if (!map) return { width: entry.width, height: entry.height, encoding: 'deflate', exists: false, base64: '' };
  return labelPayload(map);
}

async function labelPayload(map: LabelMap): Promise<LabelMapPayload> {
  const packed = await deflateAsync(map.labels, { level: 1 });
  return { width: map.width, height: map.height, encoding: 'deflate', exists: true, base64: packed.toString('base64') };
}

async function decodeTile(entry: ImageEntry, tile: TilePatch, classCount: number): Promise<{ tile: TilePatch; labels: Uint8Array }> {
  const where = `tile at ${tile.x},${tile.y} (${tile.width}x${tile.height})`;
  if (tile.x + tile.width > entry.width || tile.y + tile.height > entry.height) {
    throw new AppError('invalid_input', `The ${where} reaches outside ${entry.originalName} (${entry.width}x${entry.height}).`);
  }
  const expected = tile.width * tile.height;
  const bytes = Buffer.from(tile.labelsBase64, 'base64');
  let labels: Uint8Array;
  try {
    labels = tile.encoding === 'deflate' ? await inflateAsync(bytes, { maxOutputLength: expected }) : bytes;
  } catch {
    throw new AppError('invalid_input', `The ${where} is not valid deflate data (or holds more than ${expected} labels).`);
  }
  if (labels.length !== expected) {
    throw new AppError('invalid_input', `The ${where} carries ${labels.length} labels instead of ${expected}.`);
  }
  for (const label of labels) {
    if (label >= classCount && label !== IGNORE_LABEL) {
      throw new AppError('invalid_mask', `The ${where} contains class ${label}, but the project has classes 0-${classCount - 1} (and ${IGNORE_LABEL} = ignore).`);
    }
  }
  return { tile, labels };
}
