import type { ImageEntry } from '../contract/schemas.js';
import { validationCount } from '../contract/splits.js';

/**
 * How many labelled images a run would train and validate on at `validationPercent`: images
 * assigned a split keep it, the auto ones follow the splitter's rule (the same function). The
 * training view warns before a run that would have no validation images.
 */
export function trainingSplitCounts(images: readonly Pick<ImageEntry, 'split' | 'mask'>[], validationPercent: number): { train: number; val: number } {
  const labelled = images.filter((image) => image.mask !== null);
  const auto = labelled.filter((image) => image.split === 'auto').length;
  const val = labelled.filter((image) => image.split === 'val').length + validationCount(auto, validationPercent);
  const train = labelled.filter((image) => image.split === 'train').length + auto - validationCount(auto, validationPercent);
  return { train, val };
}
