import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../contract/errors.js';
import { SAFE_NAME } from '../contract/schemas.js';
import { describeReadError } from '../files/file-errors.js';
import { isInside, realPathOfExisting } from '../files/inside-folder.js';

/** The folders of a project, named so a user browsing it (or backing it up) understands them. */
export const PROJECT_FILE = 'project.json';
export const PROJECT_FOLDERS = ['images', 'masks', 'predictions', 'models', 'runs', 'exports'] as const;
export const THUMBNAIL_FOLDER = '.thumbnails';
/** Images deleted while the project is open, with their masks, until it is closed (see trash.ts). */
export const TRASH_FOLDER = '.trash';

export function projectFile(root: string): string {
  return path.join(root, PROJECT_FILE);
}

export function thumbnailRelativePath(imageId: string): string {
  return `${THUMBNAIL_FOLDER}/${imageId}.webp`;
}

/** The mask's preview for the dataset grid: its labels at thumbnail size (the page colours them as the editor does). */
export function maskThumbnailRelativePath(imageId: string): string {
  return `${THUMBNAIL_FOLDER}/${imageId}.mask.png`;
}

/** Whether a file in the thumbnail folder is one of this image's previews (its own or its mask's). */
export function isThumbnailOf(name: string, imageId: string): boolean {
  return `${THUMBNAIL_FOLDER}/${name}` === thumbnailRelativePath(imageId) || `${THUMBNAIL_FOLDER}/${name}` === maskThumbnailRelativePath(imageId);
}

export function maskRelativePath(imageId: string): string {
  return `masks/${imageId}.png`;
}

/** Stored predictions: a label map like the masks, beside them in predictions/. */
export function predictionRelativePath(imageId: string): string {
  return `predictions/${imageId}.png`;
}

/**
 * The one way from a project-relative path (forward slashes, as stored) to a file on disk. Each part
 * must be a safe name (the thumbnail and trash folders' leading dots aside), and the deepest part that exists is
 * resolved with its symbolic links: it must still lie inside the project folder. So neither a
 * crafted project.json nor a link inside the project (images/ -> /elsewhere) reads or writes files
 * outside it. Returns the real path (links resolved) with any parts that do not exist yet appended.
 */
export async function resolveInProject(root: string, relative: string): Promise<string> {
  const segments = relative.split('/');
  const unsafe = segments.find((segment, index) => !(SAFE_NAME.test(segment) || (index === 0 && (segment === THUMBNAIL_FOLDER || segment === TRASH_FOLDER))));
  if (unsafe !== undefined) {
    throw new AppError('invalid_project', `"${relative}" is not a path inside the project ${root}: "${unsafe}" is not a plain name.`, { root, relative });
  }
  const realRoot = await fs.realpath(root).catch((err: unknown) => {
    throw describeReadError(root, err);
  });
  const real = await realPathOfExisting(path.join(realRoot, ...segments));
  if (!isInside(real, realRoot)) {
    throw new AppError('invalid_project', `${path.join(root, ...segments)} leads outside the project folder ${root} (through a link, to ${real}); it is not read or written.`, { root, relative, real });
  }
  return real;
}
