import type { Augmentation } from '../../contract/training.js';
import { deriveSeed } from '../../random/prng.js';

/** What the augmentation worker needs to cut one batch; the same request always gives the same batch. */
export interface BatchRequest {
  id: number;
  indices: number[];
  /** Seed of this batch's augmentation randomness. */
  seed: number;
  augmentation: Augmentation;
  patch: { width: number; height: number } | null;
}

/**
 * Augmentation randomness per (run seed, epoch, step): independent of timing and of which thread
 * cuts the batch, so a resumed run sees exactly the batches it would have seen.
 */
export function batchSeed(runSeed: number, epoch: number, step: number): number {
  return deriveSeed(deriveSeed(runSeed, epoch), step);
}
