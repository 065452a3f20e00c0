import path from 'node:path';

/** The folders of a project, named so a user browsing it (or backing it up) understands them. */
export const PROJECT_FILE = 'project.json';
export const PROJECT_FOLDERS = ['images', 'masks', 'predictions', 'models', 'runs', 'exports'] as const;
export const THUMBNAIL_FOLDER = '.thumbnails';

export function projectFile(root: string): string {
  return path.join(root, PROJECT_FILE);
}

export function thumbnailFile(root: string, imageId: string): string {
  return path.join(root, THUMBNAIL_FOLDER, `${imageId}.webp`);
}

export function maskRelativePath(imageId: string): string {
  return `masks/${imageId}.png`;
}

/** Stored predictions: a label map like the masks, beside them in predictions/. */
export function predictionRelativePath(imageId: string): string {
  return `predictions/${imageId}.png`;
}

/** Resolves a stored project-relative path (always forward slashes) against the project folder. */
export function resolveInProject(root: string, relative: string): string {
  return path.join(root, ...relative.split('/'));
}
