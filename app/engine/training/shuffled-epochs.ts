import type { TrainSettings } from '../../contract/training.js';
import type { Random } from '../../random/prng.js';
import type { BatchPrefetcher } from '../data/batch-prefetcher.js';
import { batchSeed } from '../data/view-request.js';
import type { EpochBatches } from './training-loop.js';

/**
 * Every training image once per epoch, in an order shuffled by the run's random stream, cut into
 * batches (augmented and cropped to patches) by the prefetcher's worker.
 */
export function shuffledEpochs(prefetcher: BatchPrefetcher, sampleCount: number, settings: TrainSettings, random: Random): EpochBatches {
  const patch = settings.patchSize ? { width: settings.patchSize, height: settings.patchSize } : null;
  return {
    startEpoch(epoch) {
      const order = shuffled(sampleCount, random);
      const steps = Math.ceil(order.length / settings.batchSize);
      prefetcher.plan(
        Array.from({ length: steps }, (_, step) => ({
          id: step,
          indices: order.slice(step * settings.batchSize, (step + 1) * settings.batchSize),
          seed: batchSeed(settings.seed, epoch, step),
          augmentation: settings.augmentation,
          patch,
        })),
      );
      return { steps, images: order.length };
    },
    next: () => prefetcher.next(),
  };
}

function shuffled(count: number, random: Random): number[] {
  const order = Array.from({ length: count }, (_, index) => index);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
