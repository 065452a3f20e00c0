/// <reference path="../wasm-simd/webassembly.d.ts" />
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

import { runSimdKernelCall, SIMD_KERNEL_NAMES, simdKernelsFor, type SimdKernelCall, type SimdKernels } from '../wasm-simd/simd-kernels.js';
import {
  BOARD_BYTES,
  boardSlots,
  boardWords,
  BoardWord,
  CALLER_SPIN_MILLISECONDS,
  type KernelThreadData,
  MAX_PIECES,
  openClaim,
  takePieces,
  writePieces,
} from './kernel-thread-protocol.js';

/**
 * Runs the SIMD module's kernels (../wasm-simd) on several threads at once. The multi-threaded
 * wasm backend keeps its tensors in a shared memory; each thread here instantiates the module on
 * that same memory, so every thread reads and writes the tensors in place. A kernel cuts its work
 * into whole pieces (bands of tiles, ranges of images or pixels, some of the 36 Winograd
 * matrices), because on few cores splitting one small loop gains nothing while independent
 * halves of a batch gain about 1.7x on two.
 *
 * Calls are synchronous, as tfjs kernels are: `run` puts the pieces on a shared board, wakes the
 * helper threads and takes pieces itself until none are left, then waits for the ones the
 * helpers took. A helper that wakes late (a busy machine can leave a woken thread waiting for a
 * core for milliseconds) finds its share already done rather than holding everyone up. Helpers
 * and the waiting caller spin briefly before they sleep.
 */
export class KernelThreads {
  private sequence = 0;

  private constructor(
    private readonly kernels: SimdKernels,
    private readonly board: Board | null,
    /** Threads that take part in `run`, the calling one included. */
    readonly count: number,
  ) {}

  /**
   * Into how many pieces to cut a kernel's `work` (its multiply-adds or element passes): a few per
   * thread, so that threads that start late or run slow even out, but none under
   * MIN_WORK_PER_PIECE, since each piece costs a few microseconds and a second thread tens.
   */
  piecesFor(work: number): number {
    if (this.count === 1) return 1;
    return Math.max(1, Math.min(this.count * PIECES_PER_THREAD, MAX_PIECES, Math.floor(work / MIN_WORK_PER_PIECE)));
  }

  /**
   * Runs every piece (its calls in order), pieces in any order and on any thread. Returns when all
   * are done; throws the first error any of them met.
   */
  run(pieces: readonly (readonly SimdKernelCall[])[]): void {
    if (this.board === null || pieces.length === 1) {
      for (const piece of pieces) for (const call of piece) runSimdKernelCall(this.kernels, call);
      return;
    }
    const { words, slots, helpers } = this.board;
    let failure: unknown = null;
    for (let first = 0; first < pieces.length; ) {
      const written = writePieces(pieces.slice(first), slots);
      first += written;
      const sequence = ++this.sequence;
      Atomics.store(words, BoardWord.Done, 0);
      Atomics.store(words, BoardWord.Claim, openClaim(sequence, written));
      Atomics.store(words, BoardWord.Command, sequence);
      Atomics.notify(words, BoardWord.Command);
      takePieces(
        words,
        slots,
        (kernel, args) => (this.kernels[SIMD_KERNEL_NAMES[kernel]!] as (...values: number[]) => void)(...args),
        (error) => (failure ??= error),
      );
      waitUntilDone(words, written);
      if (Atomics.load(words, BoardWord.Failed) !== 0) {
        Atomics.store(words, BoardWord.Failed, 0);
        const messages = helpers.map((helper) => receiveMessageOnPort(helper.errors)?.message as string | undefined).filter((message) => message !== undefined);
        failure ??= new Error(`A kernel thread failed: ${messages.join('; ')}`);
      }
    }
    if (failure !== null) throw failure;
  }

  /** One thread: the kernels run where they are called. */
  static single(memory: WebAssembly.Memory): KernelThreads {
    return new KernelThreads(simdKernelsFor(memory), null, 1);
  }

  /** `count` threads in all (the caller and count - 1 helpers) on a shared memory. */
  static async start(memory: WebAssembly.Memory, count: number): Promise<KernelThreads> {
    const buffer = new SharedArrayBuffer(BOARD_BYTES);
    const helpers = await Promise.all(Array.from({ length: count - 1 }, () => startHelper(memory, buffer)));
    return new KernelThreads(simdKernelsFor(memory), { words: boardWords(buffer), slots: boardSlots(buffer), helpers }, count);
  }
}

/** About 50 microseconds of SIMD work: a smaller piece costs more to hand over than it saves. */
const MIN_WORK_PER_PIECE = 1 << 19;
const PIECES_PER_THREAD = 4;

interface Board {
  words: Int32Array;
  slots: Float64Array;
  helpers: Helper[];
}

interface Helper {
  worker: Worker;
  errors: MessagePort;
}

const WORKER_SCRIPT = new URL('./kernel-thread-worker.js', import.meta.url);

async function startHelper(memory: WebAssembly.Memory, board: SharedArrayBuffer): Promise<Helper> {
  const { port1: errors, port2: workerErrors } = new MessageChannel();
  const workerData: KernelThreadData = { memory, board, errors: workerErrors };
  // No inherited flags: a parent run with --input-type or --eval would stop the worker's script.
  const worker = new Worker(WORKER_SCRIPT, { workerData, transferList: [workerErrors], execArgv: [] });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`A kernel thread stopped while starting (exit code ${code}).`)));
  });
  worker.removeAllListeners();
  // The helper waits for work for the life of the process; it must not keep the process alive.
  worker.unref();
  errors.unref();
  return { worker, errors };
}

/** Waits until `pieces` pieces are done: spins a little (they should be nearly done), then sleeps. */
function waitUntilDone(words: Int32Array, pieces: number): void {
  const spinUntil = performance.now() + CALLER_SPIN_MILLISECONDS;
  while (Atomics.load(words, BoardWord.Done) !== pieces && performance.now() < spinUntil);
  for (let done = Atomics.load(words, BoardWord.Done); done !== pieces; done = Atomics.load(words, BoardWord.Done)) {
    Atomics.wait(words, BoardWord.Done, done);
  }
}

const pools = new WeakMap<WebAssembly.Memory, KernelThreads>();

/** Starts `count` kernel threads on the wasm backend's `memory` (a shared one when count > 1). */
export async function startKernelThreads(memory: WebAssembly.Memory, count: number): Promise<KernelThreads> {
  const existing = pools.get(memory);
  if (existing !== undefined) return existing;
  const pool = count > 1 ? await KernelThreads.start(memory, count) : KernelThreads.single(memory);
  pools.set(memory, pool);
  return pool;
}

/** The kernel threads of the backend whose heap is `memory`; a single thread if none were started. */
export function kernelThreadsFor(memory: WebAssembly.Memory): KernelThreads {
  let pool = pools.get(memory);
  if (pool === undefined) {
    pool = KernelThreads.single(memory);
    pools.set(memory, pool);
  }
  return pool;
}

/** [begin, end) ranges that cover [0, count) in at most `pieces` nearly equal, non-empty parts. */
export function splitEvenly(count: number, pieces: number): [number, number][] {
  const parts = Math.max(1, Math.min(pieces, count));
  return Array.from({ length: parts }, (_, part) => [Math.floor((part * count) / parts), Math.floor(((part + 1) * count) / parts)]);
}
