import * as tf from '@tensorflow/tfjs';

import type { KernelReplacement } from '../kernel-registration.js';
import type { SimdKernelCall } from '../wasm-simd/simd-kernels.js';
import { kernelThreadsFor, splitEvenly } from './kernel-threads.js';
import { WasmHeap } from './wasm-heap.js';

/**
 * Concat and SplitV of float32 tensors as plain copies of contiguous runs. A U-Net joins skip and
 * up-sampled features along the channel axis and its gradient splits them again; the wasm kernels
 * (SplitV through Slice) took 8-10 ms for a [4, 128, 128, 32] tensor, about 20x a copy.
 */
export const concatReplacement: KernelReplacement = {
  kernelName: tf.Concat,
  replace: (original) => ({
    ...original,
    kernelFunc: (args) => {
      const parts = args.inputs as unknown as tf.TensorInfo[];
      const { axis } = args.attrs as unknown as tf.ConcatAttrs;
      if (parts.length === 0 || parts.some((part) => part.dtype !== 'float32')) return original.kernelFunc(args);
      const $axis = tf.util.parseAxisParam(axis, parts[0]!.shape)[0]!;
      const outShape = tf.backend_util.computeOutShape(parts.map((part) => part.shape), $axis);
      const memory = new WasmHeap(args.backend as tf.KernelBackend);
      const out = memory.allocate(outShape);
      const layout = runLayout(outShape, $axis, parts.map((part) => part.shape[$axis]!));
      copyRuns(memory, layout, parts, out, 'join');
      return out;
    },
  }),
};

export const splitVReplacement: KernelReplacement = {
  kernelName: tf.SplitV,
  replace: (original) => ({
    ...original,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
      if (x.dtype !== 'float32') return original.kernelFunc(args);
      const $axis = tf.util.parseAxisParam(axis, x.shape)[0]!;
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, $axis);
      const memory = new WasmHeap(args.backend as tf.KernelBackend);
      const pieces = sizes.map((size) => memory.allocate(x.shape.map((extent, index) => (index === $axis ? size : extent))));
      copyRuns(memory, runLayout(x.shape, $axis, sizes), pieces, x, 'split');
      return pieces;
    },
  }),
};

interface RunLayout {
  /** Product of the dimensions before the axis. */
  outer: number;
  /** Elements each part contributes per outer index. */
  runs: number[];
}

function runLayout(wholeShape: number[], axis: number, sizesAlongAxis: number[]): RunLayout {
  const inner = tf.util.sizeFromShape(wholeShape.slice(axis + 1));
  return { outer: tf.util.sizeFromShape(wholeShape.slice(0, axis)), runs: sizesAlongAxis.map((size) => size * inner) };
}

/**
 * Moves each part's runs into (join) or out of (split) the whole tensor, which interleaves them;
 * threads take ranges of the runs.
 */
function copyRuns(memory: WasmHeap, { outer, runs }: RunLayout, parts: tf.TensorInfo[], whole: tf.TensorInfo, direction: 'join' | 'split'): void {
  const total = runs.reduce((sum, run) => sum + run, 0);
  const threads = kernelThreadsFor(memory.memory());
  const floats = (count: number) => count * Float32Array.BYTES_PER_ELEMENT;
  threads.run(
    splitEvenly(outer, threads.piecesFor(outer * total)).map(([begin, end]) => {
      let before = 0;
      return parts.map((part, index): SimdKernelCall => {
        const run = runs[index]!;
        const partStart = memory.byteOffsetOf(part) + floats(begin * run);
        const wholeStart = memory.byteOffsetOf(whole) + floats(begin * total + before);
        before += run;
        const [from, fromStride, to, toStride] = direction === 'join' ? [partStart, run, wholeStart, total] : [wholeStart, total, partStart, run];
        return { kernel: 'copyRuns', args: [from, fromStride, to, toStride, run, end - begin] };
      });
    }),
  );
}
