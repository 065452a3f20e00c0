import { Worker } from 'node:worker_threads';
import { AppError } from '../contract/errors.js';
import type { ExecutionProviderName } from '../contract/segmentation.js';
import type { SessionThreadReply, SessionThreadRequest } from './session-thread-messages.js';

const WORKER_FILE = new URL('./session-thread-worker.js', import.meta.url);

/** The inference thread itself failed or stopped: no later run can succeed, so a job should end. */
export class InferenceThreadStopped extends AppError {
  constructor(message: string) {
    super('internal', message);
  }
}

/** A model's output for one run: values and NCHW shape. */
export interface ModelOutput {
  data: Float32Array;
  dims: number[];
}

/** What tiled inference needs of a model: run an NCHW float32 batch, and let go. */
export interface TileSession {
  /** How many runs proceed at once; callers keep that many in flight to use every core. */
  readonly parallelism: number;
  run(input: Float32Array, dims: readonly number[]): Promise<ModelOutput>;
  release(): Promise<void>;
}

/**
 * An onnxruntime session on a worker thread. onnxruntime-node's run() computes synchronously on the
 * thread that calls it, so on the main thread it would block every other piece of the pipeline
 * (decoding, blending, PNG encoding) for the whole inference; on a worker that work overlaps it.
 * Requests carry sequence numbers and their input buffers are transferred, not copied.
 */
export class SessionThread implements TileSession {
  readonly parallelism = 1;
  private readonly pending = new Map<number, { resolve(output: ModelOutput): void; reject(error: Error): void }>();
  private nextSequence = 1;
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: SessionThreadReply) => this.settle(reply));
    worker.on('error', (error) => this.fail(new InferenceThreadStopped(`The inference thread failed: ${error.message}`)));
    worker.on('exit', (code) => this.fail(new InferenceThreadStopped(`The inference thread stopped (exit code ${code}).`)));
  }

  /**
   * Opens `file` on `provider` (already known to work: the provider ladder chose it) in a new thread,
   * running each run on `intraOpThreads` threads (null: onnxruntime's default).
   */
  static async open(file: string, provider: ExecutionProviderName, inputName: string, outputName: string, intraOpThreads: number | null = null): Promise<SessionThread> {
    const thread = new SessionThread(new Worker(WORKER_FILE));
    try {
      await thread.request({ type: 'open', sequence: 0, file, provider, inputName, outputName, intraOpThreads });
    } catch (err) {
      await thread.release();
      throw new AppError('invalid_input', `${file}: the inference thread could not open the model (${err instanceof Error ? err.message : String(err)}).`, { file });
    }
    thread.worker.unref();
    return thread;
  }

  run(input: Float32Array, dims: readonly number[]): Promise<ModelOutput> {
    const sequence = this.nextSequence++;
    return this.request({ type: 'run', sequence, input, dims: [...dims] }, [input.buffer as ArrayBuffer]);
  }

  async release(): Promise<void> {
    this.failure ??= new AppError('cancelled', 'The model was released.');
    await this.worker.terminate();
  }

  private request(message: SessionThreadRequest, transfer: ArrayBuffer[] = []): Promise<ModelOutput> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<ModelOutput>((resolve, reject) => {
      // A pending run keeps the process alive; an idle thread does not.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(message.sequence, { resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }

  private settle(reply: SessionThreadReply): void {
    const waiting = this.pending.get(reply.sequence);
    if (!waiting) return;
    this.pending.delete(reply.sequence);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) waiting.resolve({ data: reply.data, dims: reply.dims });
    else waiting.reject(new Error(reply.error));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(this.failure);
    this.pending.clear();
  }
}
