import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../../contract/errors.js';
import type { Batch } from '../../data/batch.js';
import type { SteppableOptimizer } from '../optimizer.js';
import { trainStep } from '../train-step.js';
import type { ReplicaReply, ReplicaRequest, ReplicaSetup, ReplicaWeights, ReplicaWorkerData } from './replica-messages.js';
import { SharedReplicaSums } from './replica-sums.js';
import { readWeights } from './replica-weights.js';
import { lossSumLength } from '../loss.js';

const WORKER_FILE = new URL('./replica-worker.js', import.meta.url);

/**
 * Data-parallel training steps: N replicas of the model, this thread's (the run's model, which
 * checkpoints, validation and callbacks use) and N - 1 on worker threads, each with its own
 * single-threaded wasm backend. Every step each replica trains on its own consecutive part of the
 * batch; the replicas add up their loss sums and gradients over shared memory (SharedReplicaSums)
 * and apply the same update, so their weights stay the same, bit for bit. On few cores this
 * scales where splitting each op over threads does not: whole halves of a batch are independent
 * work, one small op is not.
 */
export class DataParallelSteps {
  private constructor(
    private readonly model: tf.LayersModel,
    private readonly optimizer: SteppableOptimizer,
    private readonly setup: ReplicaSetup,
    private readonly sums: SharedReplicaSums,
    private readonly helpers: ReplicaThread[],
  ) {}

  get replicas(): number {
    return this.helpers.length + 1;
  }

  /**
   * Starts `replicas - 1` replica threads for `model` and `optimizer` (this thread's), trained
   * with `setup`, and gives them this thread's weights and optimizer state.
   */
  static async start(replicas: number, model: tf.LayersModel, optimizer: SteppableOptimizer, setup: ReplicaSetup): Promise<DataParallelSteps> {
    const parameters = model.weights.reduce((count, weight) => count + weight.read().size, 0);
    const sumsData = SharedReplicaSums.allocate(replicas, Math.max(parameters + 1, lossSumLength(setup.loss.classes)));
    const started = await Promise.allSettled(Array.from({ length: replicas - 1 }, (_, index) => ReplicaThread.start({ setup, sums: sumsData, replica: index + 1 })));
    const helpers = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const steps = new DataParallelSteps(model, optimizer, setup, new SharedReplicaSums(sumsData, 0), helpers);
    const failure = started.find((outcome) => outcome.status === 'rejected');
    if (failure) {
      await steps.close();
      throw failure.reason;
    }
    try {
      const weights = await readWeights(model, optimizer.optimizer);
      await Promise.all(helpers.map((helper) => helper.request({ type: 'load', ...weights }, 'ready')));
    } catch (err) {
      await steps.close();
      throw err;
    }
    return steps;
  }

  /** One step on `batch`, split among the replicas; resolves to the whole batch's loss. */
  async step(batch: Batch, learningRate: number): Promise<number> {
    const [own, ...others] = replicaParts(batch, this.replicas);
    const replies = this.helpers.map((helper, index) => helper.request({ type: 'step', part: others[index]!, learningRate }, 'done'));
    let loss: number;
    try {
      loss = await trainStep(this.model, this.optimizer, own!, this.setup.loss, this.setup.clipNorm, learningRate, this.setup.microBatchSize, {
        training: this.setup.training,
        replicaSums: this.sums,
      });
    } catch (err) {
      this.sums.fail();
      // A replica that failed first says why; this thread's error is then only that it did.
      const helperFailure = (await Promise.allSettled(replies)).find((outcome) => outcome.status === 'rejected');
      throw helperFailure ? helperFailure.reason : err;
    }
    await Promise.all(replies);
    return loss;
  }

  /** Each replica thread's weights and optimizer state (to check that they agree with this thread's). */
  async replicaWeights(): Promise<ReplicaWeights[]> {
    return Promise.all(this.helpers.map((helper) => helper.request({ type: 'read' }, 'weights')));
  }

  /** Ends the replica threads. */
  async close(): Promise<void> {
    await Promise.all(this.helpers.map((helper) => helper.close()));
  }
}

/** `batch` cut into `replicas` consecutive parts as equal as can be (copies; a part may hold no image). */
export function replicaParts(batch: Batch, replicas: number): Batch[] {
  const pixels = batch.height * batch.width;
  return Array.from({ length: replicas }, (_, replica) => {
    const start = Math.floor((replica * batch.size) / replicas);
    const end = Math.floor(((replica + 1) * batch.size) / replicas);
    return {
      ...batch,
      size: end - start,
      images: batch.images.slice(start * pixels * batch.channels, end * pixels * batch.channels),
      labels: batch.labels.slice(start * pixels, end * pixels),
    };
  });
}

type ReplyOf<Type extends ReplicaReply['type']> = Extract<ReplicaReply, { type: Type }>;

/** One replica's worker thread: requests answered one at a time, in order. */
class ReplicaThread {
  private pending: { expected: ReplicaReply['type']; resolve: (reply: ReplicaReply) => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: ReplicaReply) => {
      const pending = this.pending;
      this.pending = null;
      if (reply.type === 'failed') pending?.reject(new AppError(reply.error.code, reply.error.message, reply.error.details));
      else if (pending?.expected !== reply.type) pending?.reject(new AppError('internal', `A training replica answered ${reply.type} where ${pending?.expected} was due.`));
      else pending.resolve(reply);
    });
    worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => {
      worker.on('exit', (code) => {
        this.fail(new AppError('internal', `A training replica's thread stopped (exit code ${code}).`));
        resolve();
      });
    });
  }

  static async start(data: ReplicaWorkerData): Promise<ReplicaThread> {
    // No inherited flags: a parent run with --input-type or --eval would stop the worker's script.
    const thread = new ReplicaThread(new Worker(WORKER_FILE, { workerData: data, execArgv: [] }));
    await thread.expect('ready');
    return thread;
  }

  request<Type extends ReplicaReply['type']>(message: ReplicaRequest, expected: Type): Promise<ReplyOf<Type>> {
    const reply = this.expect(expected);
    if (this.failure === null) this.worker.postMessage(message);
    return reply;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }

  private expect<Type extends ReplicaReply['type']>(expected: Type): Promise<ReplyOf<Type>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new AppError('internal', 'A training replica was asked twice at once.'));
    return new Promise((resolve, reject) => {
      this.pending = { expected, resolve: resolve as (reply: ReplicaReply) => void, reject };
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const pending = this.pending;
    this.pending = null;
    pending?.reject(this.failure);
  }
}
