import type { Batch } from '../../app/engine/data/batch.js';
import { createRandom } from '../../app/random/prng.js';

/** A seeded batch of random intensities and labels (class 0..classes-1), for steps whose content does not matter. */
export function randomBatch(options: { size: number; height: number; width: number; channels: number; classes?: number; seed?: number }): Batch {
  const { size, height, width, channels, classes = 2, seed = 0 } = options;
  const random = createRandom(seed);
  const pixels = size * height * width;
  return {
    size,
    height,
    width,
    channels,
    images: Float32Array.from({ length: pixels * channels }, () => random.next()),
    labels: Int32Array.from({ length: pixels }, () => Math.floor(random.next() * classes)),
  };
}

/** A seeded 32x48 grey batch with about a tenth of every image's pixels labelled 255 (ignored), as partly painted masks are. */
export function partlyLabelledBatch(size: number, classes: number, seed: number): Batch {
  const random = createRandom(seed);
  const [height, width] = [32, 48];
  const pixels = size * height * width;
  return {
    size,
    height,
    width,
    channels: 1,
    images: Float32Array.from({ length: pixels }, () => random.next()),
    labels: Int32Array.from({ length: pixels }, () => (random.next() < 0.1 ? 255 : Math.floor(random.next() * classes))),
  };
}
