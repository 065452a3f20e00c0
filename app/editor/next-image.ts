import type { ImageEntry } from '../contract/schemas.js';
import { meanConfidence, orderImages } from './image-order.js';

/** Images no human has painted yet: unlabelled, or only predicted by a model. */
export function isUnlabelled(image: Pick<ImageEntry, 'status'>): boolean {
  return image.status === 'unlabelled' || image.status === 'predicted';
}

/**
 * The first unlabelled image after `currentId` in the editor's order (the dataset's), wrapping
 * round to the start; null when no other image is unlabelled.
 */
export function nextUnlabelled(images: readonly ImageEntry[], order: readonly string[], currentId: string | null): string | null {
  const byId = new Map(images.map((image) => [image.id, image]));
  const start = currentId === null ? -1 : order.indexOf(currentId);
  for (let step = 1; step <= order.length; step++) {
    const id = order[(start + step + order.length) % order.length]!;
    const image = byId.get(id);
    if (id !== currentId && image && isUnlabelled(image)) return id;
  }
  return null;
}

/**
 * The unlabelled image whose prediction the model is least sure of (the dataset's "least confident
 * first" order), other than `currentId`; null when no other unlabelled image has a prediction.
 */
export function leastConfidentUnlabelled(images: readonly ImageEntry[], currentId: string | null): ImageEntry | null {
  const candidates = images.filter((image) => image.id !== currentId && isUnlabelled(image) && meanConfidence(image) !== null);
  return orderImages(candidates, { status: 'all', search: '', sort: 'confidence' })[0] ?? null;
}
