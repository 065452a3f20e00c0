import os from 'node:os';
import type { ExecutionProviderName } from '../contract/segmentation.js';
import { type ModelOutput, SessionThread, type TileSession } from './session-thread.js';

/** How a model is spread over inference threads. */
export interface SessionLayout {
  sessions: number;
  /** Threads of one run (null: onnxruntime's default, one per core). */
  intraOpThreads: number | null;
}

const MAX_CPU_SESSIONS = 4;
/** Above this, a copy of the model per session costs more memory than the speed is worth. */
const MAX_REPLICATED_MODEL_BYTES = 256 * 1024 * 1024;

/**
 * On the CPU, one session per core (up to 4) with the cores shared out between them: images (and
 * tiles) then run side by side, each on its own threads. One session running each image on every
 * core made its threads wait for each other at every layer, and for the pipeline's decoding and
 * encoding whenever those took a core: bench/segment-speed measured 2 sessions x 1 thread at
 * 9.4 images/s where 1 x 2 ran 8.8 (U-Net base 16, 512x512, 2 cores), and the pipeline kept more
 * of it. An accelerator gets one session, as does a model too large to hold several times.
 */
export function sessionLayout(provider: ExecutionProviderName, modelBytes: number, cores = os.availableParallelism()): SessionLayout {
  if (provider !== 'cpu' || cores < 2 || modelBytes > MAX_REPLICATED_MODEL_BYTES) return { sessions: 1, intraOpThreads: null };
  const sessions = Math.min(cores, MAX_CPU_SESSIONS);
  return { sessions, intraOpThreads: Math.floor(cores / sessions) };
}

/** Sessions of one model on threads of their own; each run goes to the first idle one. */
export class SessionPool implements TileSession {
  private readonly idle: SessionThread[];
  private readonly waiting: (() => void)[] = [];

  private constructor(private readonly threads: SessionThread[]) {
    this.idle = [...threads];
  }

  get parallelism(): number {
    return this.threads.length;
  }

  static async open(file: string, provider: ExecutionProviderName, inputName: string, outputName: string, layout: SessionLayout): Promise<SessionPool> {
    const opening = Array.from({ length: layout.sessions }, () => SessionThread.open(file, provider, inputName, outputName, layout.intraOpThreads));
    const settled = await Promise.allSettled(opening);
    const threads = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      await Promise.all(threads.map((thread) => thread.release()));
      throw failed.reason;
    }
    return new SessionPool(threads);
  }

  async run(input: Float32Array, dims: readonly number[]): Promise<ModelOutput> {
    let thread = this.idle.pop();
    while (thread === undefined) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      thread = this.idle.pop();
    }
    try {
      return await thread.run(input, dims);
    } finally {
      this.idle.push(thread);
      this.waiting.shift()?.();
    }
  }

  async release(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.release()));
  }
}
