import { Worker } from 'node:worker_threads';
// The worker decodes with sharp; loaded here first, its libraries stay loaded for the process's
// life instead of being unloaded when a worker ends (sharp's advice for worker threads).
import 'sharp';
import { AppError } from '../../contract/errors.js';
import type { AugmentWorkerReply, AugmentWorkerRequest, SampleSource } from './augment-messages.js';
import type { Batch } from './batch.js';
import type { BatchRequest } from './view-request.js';

const WORKER_FILE = new URL('./augment-worker.js', import.meta.url);
/** Batches prepared ahead of the training step. */
const DEPTH = 2;

/**
 * Cuts training batches on a worker thread, keeping the next ones in flight while the training
 * thread runs a step, so augmentation never starves the (synchronous) backend. The worker reads the
 * images from disk itself (see SampleStream), so the training thread never holds the dataset.
 */
export class BatchPrefetcher {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (batch: Batch) => void; reject: (error: Error) => void }>();
  private readonly ready = new Map<number, Promise<Batch>>();
  private queue: BatchRequest[] = [];
  private failure: Error | null = null;
  private readonly exited: Promise<void>;

  constructor(source: SampleSource) {
    this.worker = new Worker(WORKER_FILE);
    this.worker.on('message', (reply: AugmentWorkerReply) => {
      const waiting = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.ok) waiting?.resolve(reply.batch);
      else waiting?.reject(new AppError(reply.error.code, reply.error.message, reply.error.details));
    });
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => {
      this.worker.on('exit', (code) => {
        if (code !== 0) this.fail(new AppError('internal', `The augmentation worker stopped (exit code ${code}).`));
        resolve();
      });
    });
    this.post({ type: 'source', ...source });
  }

  /** Sets the batches of the coming epoch, in order, and starts preparing the first ones. */
  plan(requests: BatchRequest[]): void {
    this.post({ type: 'plan', order: requests.flatMap((request) => request.indices) });
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

  /** Lets the worker finish the reads in progress and end. */
  async close(): Promise<void> {
    this.post({ type: 'close' });
    await this.exited;
  }

  private post(message: AugmentWorkerRequest): void {
    this.worker.postMessage(message);
  }

  private fill(): void {
    while (this.ready.size < DEPTH && this.queue.length > 0) {
      const request = this.queue.shift()!;
      const batch = this.failure
        ? Promise.reject(this.failure)
        : new Promise<Batch>((resolve, reject) => {
            this.waiting.set(request.id, { resolve, reject });
            this.post({ type: 'batch', ...request });
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
