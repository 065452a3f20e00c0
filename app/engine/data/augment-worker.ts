// Worker thread that reads training images from disk and cuts augmented batches while the training
// thread runs the previous step.
import { parentPort } from 'node:worker_threads';
import { toContractError } from '../../contract/errors.js';
import { createRandom } from '../../random/prng.js';
import type { AugmentWorkerReply, AugmentWorkerRequest } from './augment-messages.js';
import { augmentedView } from './augment.js';
import { assembleBatch } from './batch.js';
import { readTrainingSample } from './load-samples.js';
import { SampleCache } from './sample-cache.js';
import { SampleStream } from './sample-stream.js';
import type { BatchRequest } from './view-request.js';

const port = parentPort!;
let stream: SampleStream | null = null;
const cutting = new Set<Promise<void>>();

port.on('message', (message: AugmentWorkerRequest) => {
  switch (message.type) {
    case 'source': {
      const { files, format, cacheBytes } = message;
      stream = new SampleStream((index) => readTrainingSample(files[index]!, format), new SampleCache(cacheBytes));
      return;
    }
    case 'plan':
      stream!.plan(message.order);
      return;
    case 'batch': {
      const job = cutBatch(message).finally(() => cutting.delete(job));
      cutting.add(job);
      return;
    }
    case 'close':
      // Terminating a thread while sharp decodes on it can bring the whole process down, so the
      // worker ends itself once its reads are done.
      void Promise.allSettled([...cutting, stream?.settle()]).then(() => port.close());
      return;
  }
});

async function cutBatch(request: BatchRequest): Promise<void> {
  let reply: AugmentWorkerReply;
  try {
    const samples = await stream!.take(request.indices);
    const random = createRandom(request.seed);
    const views = samples.map((sample) => augmentedView(sample, request.augmentation, random, request.patch));
    reply = { id: request.id, ok: true, batch: assembleBatch(views) };
  } catch (err) {
    reply = { id: request.id, ok: false, error: toContractError(err) };
  }
  port.postMessage(reply, reply.ok ? [reply.batch.images.buffer as ArrayBuffer, reply.batch.labels.buffer as ArrayBuffer] : []);
}
