import { createHash } from 'node:crypto';
import type { ImageEntry, ProjectSettings } from '../contract/schemas.js';
import { validationCount } from '../contract/splits.js';

export type ResolvedSplit = 'train' | 'val' | 'test';

/**
 * The split of every image. Images the user assigned keep their split; of the "auto" ones, the
 * project's percentage (rounded, at least one when there are two or more) goes to validation,
 * chosen by a hash of the image id and the project seed: the same in every process, and stable as
 * images come and go (an image's rank among the others changes little).
 */
export function assignSplits(
  images: readonly Pick<ImageEntry, 'id' | 'split'>[],
  settings: Pick<ProjectSettings, 'validationPercent' | 'seed'>,
): Map<string, ResolvedSplit> {
  const splits = new Map<string, ResolvedSplit>();
  const auto: { id: string; rank: string }[] = [];
  for (const image of images) {
    if (image.split === 'auto') auto.push({ id: image.id, rank: createHash('sha256').update(`${settings.seed}:${image.id}`).digest('hex') });
    else splits.set(image.id, image.split);
  }
  const validation = validationCount(auto.length, settings.validationPercent);
  auto.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  auto.forEach((image, index) => splits.set(image.id, index < validation ? 'val' : 'train'));
  return splits;
}
