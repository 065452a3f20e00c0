/// <reference path="../wasm-simd/webassembly.d.ts" />
import type { MessagePort } from 'node:worker_threads';

import { SIMD_KERNEL_NAMES, type SimdKernelCall } from '../wasm-simd/simd-kernels.js';

/**
 * How the threads of kernel-threads.ts share work: one shared board, a few int32 words and then
 * the pieces of work as float64s. Each piece is a list of calls: a count, then per call the
 * kernel's number in SIMD_KERNEL_NAMES, its argument count and its arguments (byte offsets up to
 * 4 GiB are exact in a float64). A thread takes the next piece by bumping Claim, so a thread that
 * is slow to wake, or busy elsewhere, leaves its share to the others.
 */
export enum BoardWord {
  /** Sequence number of the latest set of pieces, for waking helpers. */
  Command = 0,
  /** The latest set's sequence number (16 bits), its piece count (8) and the next piece to take (8). */
  Claim = 1,
  /** Pieces of the latest set finished. */
  Done = 2,
  /** Set when a piece threw; the message waits on the failing helper's error port. */
  Failed = 3,
}

const HEADER_BYTES = 16;
/** Pieces on the board at once; more go in further rounds. */
export const MAX_PIECES = 255;
const SLOTS = 32768;
export const BOARD_BYTES = HEADER_BYTES + SLOTS * Float64Array.BYTES_PER_ELEMENT;

/**
 * The Claim word of set `sequence` with `pieces` pieces, none taken. The sequence number makes a
 * claim of a thread that read the word of an earlier set fail: such a thread may have been
 * descheduled between reading the word and claiming.
 */
export function openClaim(sequence: number, pieces: number): number {
  return ((sequence & 0xffff) << 16) | (pieces << 8);
}

/** What a helper thread is started with. */
export interface KernelThreadData {
  memory: WebAssembly.Memory;
  board: SharedArrayBuffer;
  errors: MessagePort;
}

/**
 * How long a waiting thread keeps checking before it sleeps: the caller waits for pieces that
 * take about as long as its own, a helper for the next kernel of a training step, which usually
 * follows within a fraction of a millisecond.
 */
export const CALLER_SPIN_MILLISECONDS = 5;
export const HELPER_SPIN_MILLISECONDS = 0.5;

export function boardWords(board: SharedArrayBuffer): Int32Array {
  return new Int32Array(board, 0, HEADER_BYTES / Int32Array.BYTES_PER_ELEMENT);
}

/** Piece i starts at slot slots[i]; the calls follow the MAX_PIECES starts. */
export function boardSlots(board: SharedArrayBuffer): Float64Array {
  return new Float64Array(board, HEADER_BYTES, SLOTS);
}

/** Writes as many of `pieces` as fit (at least one) onto the board's slots; returns how many. */
export function writePieces(pieces: readonly (readonly SimdKernelCall[])[], slots: Float64Array): number {
  let at = MAX_PIECES;
  let written = 0;
  for (const piece of pieces) {
    const size = piece.reduce((total, call) => total + 2 + call.args.length, 1);
    if (written === MAX_PIECES || (written > 0 && at + size > slots.length)) break;
    if (at + size > slots.length) throw new Error(`A piece of ${piece.length} kernel calls does not fit on the kernel threads' board.`);
    slots[written++] = at;
    slots[at++] = piece.length;
    for (const { kernel, args } of piece) {
      slots[at++] = SIMD_KERNEL_NAMES.indexOf(kernel);
      slots[at++] = args.length;
      for (const arg of args) slots[at++] = arg;
    }
  }
  return written;
}

/**
 * Takes pieces off the board and runs them with `run(kernel number, arguments)` until none are
 * left. A piece that throws is reported to `fail` before it counts as done, so that whoever waits
 * for the pieces learns of the failure when they are all done.
 */
export function takePieces(words: Int32Array, slots: Float64Array, run: (kernel: number, args: number[]) => void, fail: (error: unknown) => void): void {
  for (;;) {
    const claim = Atomics.load(words, BoardWord.Claim);
    const next = claim & 0xff;
    if (next >= ((claim >> 8) & 0xff)) return;
    if (Atomics.compareExchange(words, BoardWord.Claim, claim, claim + 1) !== claim) continue;
    try {
      let at = slots[next]!;
      const calls = slots[at++]!;
      for (let call = 0; call < calls; call++) {
        const kernel = slots[at++]!;
        const count = slots[at++]!;
        run(kernel, Array.from(slots.subarray(at, at + count)));
        at += count;
      }
    } catch (error) {
      fail(error);
    }
    Atomics.add(words, BoardWord.Done, 1);
    Atomics.notify(words, BoardWord.Done);
  }
}
