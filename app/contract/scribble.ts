import { IGNORE_LABEL, type ImageEntry, type ImageStatus, type ProjectSettings } from './schemas.js';

/** Whether unpainted pixels of this image are unlabelled (scribble mode): its own setting, else the project's. */
export function isScribbleImage(settings: Pick<ProjectSettings, 'scribble'>, entry: Pick<ImageEntry, 'scribble'>): boolean {
  return entry.scribble ?? settings.scribble;
}

/** The label a new mask starts with: unlabelled (255) in scribble mode, background (0) otherwise. */
export function unpaintedLabel(scribble: boolean): number {
  return scribble ? IGNORE_LABEL : 0;
}

/**
 * The status of an image once this mask is stored: a reviewed mask stays reviewed; in scribble mode
 * a mask with unlabelled pixels left is partly labelled; any other mask is labelled.
 */
export function statusOfMask(entry: Pick<ImageEntry, 'status'>, labels: Uint8Array, scribble: boolean): ImageStatus {
  if (entry.status === 'reviewed') return 'reviewed';
  return scribble && labels.includes(IGNORE_LABEL) ? 'partial' : 'labelled';
}
