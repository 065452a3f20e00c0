// Worker thread that cuts augmented batches while the training thread runs the previous step.
import { parentPort } from 'node:worker_threads';
import { createRandom } from '../../random/prng.js';
import { augmentedView } from './augment.js';
import { assembleBatch } from './batch.js';
import type { TrainingSample } from './training-sample.js';
import type { BatchRequest } from './view-request.js';

let samples: TrainingSample[] = [];

parentPort!.on('message', (message: { type: 'samples'; samples: TrainingSample[] } | ({ type: 'batch' } & BatchRequest)) => {
  if (message.type === 'samples') {
    samples = message.samples;
    return;
  }
  const random = createRandom(message.seed);
  const views = message.indices.map((index) => augmentedView(samples[index]!, message.augmentation, random, message.patch));
  const batch = assembleBatch(views);
  parentPort!.postMessage({ id: message.id, batch }, [batch.images.buffer as ArrayBuffer, batch.labels.buffer as ArrayBuffer]);
});
