// A helper thread of kernel-threads.ts: takes pieces of kernel work off the shared board and runs
// them on the wasm backend's shared heap.
import { parentPort, workerData } from 'node:worker_threads';

import { SIMD_KERNEL_NAMES, simdKernelsFor } from '../wasm-simd/simd-kernels.js';
import { boardSlots, boardWords, BoardWord, HELPER_SPIN_MILLISECONDS, type KernelThreadData, takePieces } from './kernel-thread-protocol.js';

const { memory, board, errors } = workerData as KernelThreadData;
const kernels = simdKernelsFor(memory);
const functions = SIMD_KERNEL_NAMES.map((name) => kernels[name] as (...args: number[]) => void);
const words = boardWords(board);
const slots = boardSlots(board);

parentPort!.postMessage('ready');
let seen = Atomics.load(words, BoardWord.Command);
for (;;) {
  const spinUntil = performance.now() + HELPER_SPIN_MILLISECONDS;
  while (Atomics.load(words, BoardWord.Command) === seen && performance.now() < spinUntil);
  Atomics.wait(words, BoardWord.Command, seen);
  seen = Atomics.load(words, BoardWord.Command);
  takePieces(
    words,
    slots,
    (kernel, args) => functions[kernel]!(...args),
    (error) => {
      errors.postMessage(error instanceof Error ? error.message : String(error));
      Atomics.store(words, BoardWord.Failed, 1);
    },
  );
}
