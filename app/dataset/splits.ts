import { createHash } from 'node:crypto';
import type { ImageEntry, ProjectSettings } from '../contract/schemas.js';

export type ResolvedSplit = 'train' | 'val' | 'test';

/**
 * The split an image belongs to. "auto" images go to validation with the project's percentage, decided
 * by a hash of the image id and the project seed: stable when images are added or removed, and the
 * same in every process that asks.
 */
export function resolveSplit(image: Pick<ImageEntry, 'id' | 'split'>, settings: Pick<ProjectSettings, 'validationPercent' | 'seed'>): ResolvedSplit {
  if (image.split !== 'auto') return image.split;
  const digest = createHash('sha256').update(`${settings.seed}:${image.id}`).digest();
  const unit = digest.readUInt32BE(0) / 2 ** 32;
  return unit < settings.validationPercent / 100 ? 'val' : 'train';
}
