import { Worker } from 'node:worker_threads';
import { AppError } from '../../contract/errors.js';
import type { Batch } from './batch.js';
import type { TrainingSample } from './training-sample.js';
import type { BatchRequest } from './view-request.js';

const WORKER_FILE = new URL('./augment-worker.js', import.meta.url);
/** Batches prepared ahead of the training step. */
const DEPTH = 2;

/**
 * Cuts training batches on a worker thread, keeping the next ones in flight while the training
 * thread runs a step, so augmentation never starves the (synchronous) backend.
 */
export class BatchPrefetcher {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (batch: Batch) => void; reject: (error: Error) => void }>();
  private readonly ready = new Map<number, Promise<Batch>>();
  private queue: BatchRequest[] = [];
  private failure: Error | null = null;

  constructor(samples: readonly TrainingSample[]) {
    this.worker = new Worker(WORKER_FILE);
    this.worker.on('message', ({ id, batch }: { id: number; batch: Batch }) => {
      this.waiting.get(id)?.resolve(batch);
      this.waiting.delete(id);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.fail(new AppError('internal', `The augmentation worker stopped (exit code ${code}).`));
    });
    this.worker.postMessage({ type: 'samples', samples });
  }

  /** Sets the batches of the coming epoch, in order, and starts preparing the first ones. */
  plan(requests: BatchRequest[]): void {
    this.queue = [...requests];
    this.ready.clear();
    this.fill();
  }

  /** The next planned batch (requests are answered in the order they were planned). */
  async next(): Promise<Batch> {
    const [first] = this.ready.keys();
    if (first === undefined) throw new AppError('internal', 'No batch planned.');
    const batch = this.ready.get(first)!;
    this.ready.delete(first);
    this.fill();
    return batch;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private fill(): void {
    while (this.ready.size < DEPTH && this.queue.length > 0) {
      const request = this.queue.shift()!;
      const batch = this.failure
        ? Promise.reject(this.failure)
        : new Promise<Batch>((resolve, reject) => {
            this.waiting.set(request.id, { resolve, reject });
            this.worker.postMessage({ type: 'batch', ...request });
          });
      // A failure is reported when the batch is awaited, not as an unhandled rejection before.
      batch.catch(() => undefined);
      this.ready.set(request.id, batch);
    }
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const pending of this.waiting.values()) pending.reject(error);
    this.waiting.clear();
  }
}
