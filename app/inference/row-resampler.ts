import type { ProbabilityRowSink } from './tiled-inference.js';

/**
 * Streams planar probability rows from the model's resolution up (or down) to the image's, bilinear
 * with aligned pixel centres (the same convention as training's `resizeBilinear`). It keeps only the
 * two source rows the current output row needs. At equal sizes rows pass straight through.
 */
export function resampleRows(from: { width: number; height: number }, to: { width: number; height: number }, channels: number, sink: ProbabilityRowSink): ProbabilityRowSink {
  if (from.width === to.width && from.height === to.height) return sink;
  const sx = from.width / to.width;
  const sy = from.height / to.height;
  const x0 = new Int32Array(to.width);
  const x1 = new Int32Array(to.width);
  const wx = new Float32Array(to.width);
  for (let x = 0; x < to.width; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), from.width - 1);
    x0[x] = Math.floor(fx);
    x1[x] = Math.min(x0[x]! + 1, from.width - 1);
    wx[x] = fx - x0[x]!;
  }
  const sourceRow = (y: number) => {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), from.height - 1);
    const low = Math.floor(fy);
    return { low, high: Math.min(low + 1, from.height - 1), weight: fy - low };
  };
  const held = new Map<number, Float32Array>();
  let next = 0;
  return async (y, row) => {
    held.set(y, row);
    while (next < to.height) {
      const { low, high, weight } = sourceRow(next);
      if (high > y) break;
      const a = held.get(low)!;
      const b = held.get(high)!;
      const out = new Float32Array(channels * to.width);
      for (let c = 0; c < channels; c++) {
        const offset = c * from.width;
        for (let x = 0; x < to.width; x++) {
          const top = a[offset + x0[x]!]! * (1 - wx[x]!) + a[offset + x1[x]!]! * wx[x]!;
          const bottom = b[offset + x0[x]!]! * (1 - wx[x]!) + b[offset + x1[x]!]! * wx[x]!;
          out[c * to.width + x] = top * (1 - weight) + bottom * weight;
        }
      }
      await sink(next, out);
      next += 1;
    }
    for (const key of held.keys()) if (key < y) held.delete(key);
  };
}
