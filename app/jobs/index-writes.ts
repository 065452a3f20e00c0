import { type Envelope, unwrap } from '../contract/envelope.js';
import { type WorkerLauncher, type WorkerProgress, type WorkerProtocol, superviseWorker } from './worker-process.js';

/**
 * The project index changes a worker process sends (new images, predictions), applied by the host,
 * which owns project.json and its lock, one after another in the order they came. The first write
 * that fails stops the worker (through `signal`) and becomes the job's error; what was written
 * before it stays.
 */
export class IndexWrites {
  /** Fires when the job is cancelled or a write failed: pass it to the worker. */
  readonly signal: AbortSignal;
  private readonly stop = new AbortController();
  private queue: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | null = null;

  constructor(jobSignal: AbortSignal) {
    this.signal = AbortSignal.any([jobSignal, this.stop.signal]);
  }

  apply(write: () => Promise<unknown>): void {
    this.queue = this.queue.then(async () => {
      if (this.failure) return;
      try {
        await write();
      } catch (error) {
        this.failure = { error };
        this.stop.abort();
      }
    });
  }

  /** The worker's result once every write it asked for is done; a failed write wins over the worker's outcome. */
  async settle<T>(worker: Promise<Envelope<T>>): Promise<T> {
    const outcome = await worker.then(
      (envelope) => ({ envelope }),
      (error: unknown) => ({ error }),
    );
    await this.queue;
    if (this.failure) throw this.failure.error;
    if ('error' in outcome) throw outcome.error;
    return unwrap(outcome.envelope);
  }
}

export interface IndexWorkerOptions<Change> {
  signal: AbortSignal;
  /** Takes the project's write lock (the worker writes files into the project under it). */
  claimWrites(): Promise<void>;
  /** Applies one change the worker reports to the project's index. */
  write(change: Change): Promise<unknown>;
  onProgress?(done: number, total: number, message: string): void;
  what: string;
  crashHint: string;
}

/**
 * Runs a job whose worker process writes files into a project and reports the index changes that go
 * with them, which the host (owner of project.json and its lock) applies in order as they come.
 */
export async function runIndexWorker<Change extends { type: string; seq: number }, R>(
  launch: WorkerLauncher,
  module: string,
  start: Record<string, unknown>,
  protocol: WorkerProtocol<WorkerProgress | Change, R>,
  options: IndexWorkerOptions<Change>,
): Promise<R> {
  await options.claimWrites();
  const writes = new IndexWrites(options.signal);
  const worker = superviseWorker(launch, module, start, protocol, {
    signal: writes.signal,
    what: options.what,
    crashHint: options.crashHint,
    onMessage: (message) => {
      if (isProgress(message)) options.onProgress?.(message.done, message.total, message.message);
      else writes.apply(() => options.write(message));
    },
  });
  return writes.settle(worker);
}

function isProgress(message: { type: string }): message is WorkerProgress {
  return message.type === 'progress';
}
