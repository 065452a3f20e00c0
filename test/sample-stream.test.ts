import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { augmentedView } from '../app/engine/data/augment.js';
import { assembleBatch } from '../app/engine/data/batch.js';
import { BatchPrefetcher } from '../app/engine/data/batch-prefetcher.js';
import { readTrainingSample, type SampleFile, type SampleFormat } from '../app/engine/data/load-samples.js';
import { SampleCache, sampleBytes } from '../app/engine/data/sample-cache.js';
import { SampleStream } from '../app/engine/data/sample-stream.js';
import type { TrainingSample } from '../app/engine/data/training-sample.js';
import { batchSeed } from '../app/engine/data/view-request.js';
import { createRandom, type Random } from '../app/random/prng.js';
import { tempDir } from './support/temp-dir.js';

const FORMAT: SampleFormat = { channels: 3, sizing: { mode: 'scale', scale: 1 }, maxPixels: 1e8 };

async function labelledFiles(dir: string, count: number, width: number, height: number): Promise<SampleFile[]> {
  const data = await generateSynthetic({ outDir: dir, count, width, height, channels: 3 });
  return data.images.map((image, index) => ({ id: `s${index}`, image, mask: data.masks[index]!, page: 0 }));
}

/** A random order of `count` samples, as an epoch plans them. */
function shuffled(count: number, random: Random): number[] {
  const keys = Array.from({ length: count }, () => random.next());
  return keys.map((_, index) => index).sort((a, b) => keys[a]! - keys[b]!);
}

function assertSameSample(actual: TrainingSample, expected: TrainingSample): void {
  assert.equal(actual.id, expected.id);
  assert.deepEqual([actual.width, actual.height, actual.channels], [expected.width, expected.height, expected.channels]);
  assert.deepEqual(actual.image, expected.image);
  assert.deepEqual(actual.labels, expected.labels);
}

test('the sample cache stays within its bound while epochs stream from disk, and keeps the same samples from epoch to epoch', async (t) => {
  const files = await labelledFiles(await tempDir(t), 12, 64, 48);
  const expected = await Promise.all(files.map((file) => readTrainingSample(file, FORMAT)));
  const perSample = sampleBytes(expected[0]!);
  assert.equal(perSample, 64 * 48 * 3 * 4 + 64 * 48);
  for (const fit of [5, 0]) {
    // A bound a little over `fit` samples: never room for one more.
    const cache = new SampleCache(fit * perSample + perSample / 2);
    let reads = 0;
    const stream = new SampleStream((index) => {
      reads += 1;
      return readTrainingSample(files[index]!, FORMAT);
    }, cache);
    const random = createRandom(7);
    const readsPerEpoch: number[] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      const before = reads;
      const order = shuffled(files.length, random);
      stream.plan(order);
      const batches = [order.slice(0, 3), order.slice(3, 6), order.slice(6, 9), order.slice(9)];
      // Two batches in flight at a time, as the prefetcher asks for them.
      for (let b = 0; b < batches.length; b += 2) {
        const taken = await Promise.all(batches.slice(b, b + 2).map((indices) => stream.take(indices)));
        taken.flat().forEach((sample, k) => assertSameSample(sample, expected[batches.slice(b, b + 2).flat()[k]!]!));
        assert.ok(cache.bytes <= cache.maxBytes, `cache holds ${cache.bytes} bytes, bound ${cache.maxBytes}`);
      }
      readsPerEpoch.push(reads - before);
    }
    assert.equal(cache.size, fit);
    assert.equal(cache.bytes, fit * perSample);
    // Every image is read in the first epoch; later epochs read only what the cache could not hold.
    assert.deepEqual(readsPerEpoch, [12, 12 - fit, 12 - fit], `fit ${fit}`);
    await stream.settle();
  }
});

test('the augmentation worker reads the images from disk and cuts exactly the batch each request describes, in plan order', async (t) => {
  const files = await labelledFiles(await tempDir(t), 5, 24, 20);
  const samples = await Promise.all(files.map((file) => readTrainingSample(file, FORMAT)));
  const augmentation = { flips: true, rotate90: true, scale: [0.9, 1.1] as [number, number], rotateDegrees: 10, brightness: 0.1, contrast: 0.1, noise: 0.01 };
  // A cache of two samples: later epochs mix cached samples and samples read again.
  const prefetcher = new BatchPrefetcher({ files, format: FORMAT, cacheBytes: 2 * sampleBytes(samples[0]!) });
  try {
    for (const epoch of [1, 2]) {
      const order = shuffled(files.length, createRandom(epoch));
      const requests = [order.slice(0, 2), order.slice(2, 4), order.slice(4)].map((indices, step) => ({ id: step, indices, seed: batchSeed(3, epoch, step), augmentation, patch: { width: 16, height: 16 } }));
      prefetcher.plan(requests);
      for (const request of requests) {
        const fromWorker = await prefetcher.next();
        const local = createRandom(request.seed);
        const expected = assembleBatch(request.indices.map((index) => augmentedView(samples[index]!, augmentation, local, request.patch)));
        assert.deepEqual(fromWorker.images, expected.images);
        assert.deepEqual(fromWorker.labels, expected.labels);
      }
    }
  } finally {
    await prefetcher.close();
  }
});

test('an image that can no longer be read fails its batch with the file named, and the worker still closes', async (t) => {
  const files = await labelledFiles(await tempDir(t), 4, 24, 20);
  await fs.writeFile(files[2]!.image, (await fs.readFile(files[2]!.image)).subarray(0, 40));
  const augmentation = { flips: false, rotate90: false, scale: [1, 1] as [number, number], rotateDegrees: 0, brightness: 0, contrast: 0, noise: 0 };
  const prefetcher = new BatchPrefetcher({ files, format: FORMAT, cacheBytes: 0 });
  try {
    prefetcher.plan([[0, 1], [2, 3]].map((indices, step) => ({ id: step, indices, seed: step, augmentation, patch: null })));
    assert.equal((await prefetcher.next()).size, 2);
    await assert.rejects(prefetcher.next(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'invalid_image');
      assert.ok(err.message.includes(path.basename(files[2]!.image)), err.message);
      return true;
    });
  } finally {
    await prefetcher.close();
  }
});
