/**
 * The bioimage.io model description's own pre-processing operations that express U-Net Studio's
 * normalisation rule (format 0.5, `inputs[i].preprocessing`), and an interpreter for exactly those
 * operations, with the formulas the specification gives, used to compute the package's test output
 * the way bioimage.io tools recompute it.
 */

export type ProcessingStep =
  | { id: 'ensure_dtype'; kwargs: { dtype: 'float32' } }
  | { id: 'scale_linear'; kwargs: { gain: number; offset: number } }
  | { id: 'scale_range'; kwargs: { axes: string[]; min_percentile: number; max_percentile: number; eps: number } }
  | { id: 'clip'; kwargs: { min: number; max: number } };

const TO_FLOAT: ProcessingStep = { id: 'ensure_dtype', kwargs: { dtype: 'float32' } };

/**
 * 8-bit: value/255 (`scale_linear`). 16-bit: stretched from the image's 0.1th to 99.9th percentile
 * over all its channels (`scale_range` over channel, y and x of each sample) and clipped to [0, 1].
 * The specification's percentiles interpolate linearly and its stretch adds eps = 1e-6 to the range,
 * where U-Net Studio takes the nearest rank: equal up to those small differences.
 */
export function preprocessingFor(bitDepth: 8 | 16): ProcessingStep[] {
  if (bitDepth === 8) return [TO_FLOAT, { id: 'scale_linear', kwargs: { gain: 1 / 255, offset: 0 } }, TO_FLOAT];
  return [
    TO_FLOAT,
    { id: 'scale_range', kwargs: { axes: ['channel', 'y', 'x'], min_percentile: 0.1, max_percentile: 99.9, eps: 1e-6 } },
    { id: 'clip', kwargs: { min: 0, max: 1 } },
    TO_FLOAT,
  ];
}

/**
 * Applies the steps to a tensor shaped [batch, channel, y, x] (C order), as the specification
 * defines them; returns float32 values. scale_range reduces either every axis but the batch (each
 * sample alone) or all of them.
 */
export function applyProcessing(steps: readonly ProcessingStep[], values: ArrayLike<number>, shape: readonly [number, number, number, number]): Float32Array {
  const out = Float32Array.from(values);
  const sampleSize = shape[1] * shape[2] * shape[3];
  for (const step of steps) {
    switch (step.id) {
      case 'ensure_dtype':
        break;
      case 'scale_linear':
        for (let i = 0; i < out.length; i++) out[i] = out[i]! * step.kwargs.gain + step.kwargs.offset;
        break;
      case 'clip':
        for (let i = 0; i < out.length; i++) out[i] = Math.min(step.kwargs.max, Math.max(step.kwargs.min, out[i]!));
        break;
      case 'scale_range': {
        const axes = [...step.kwargs.axes].sort().join();
        const perSample = axes === 'channel,x,y';
        if (!perSample && axes !== 'batch,channel,x,y') throw new Error(`scale_range over axes ${step.kwargs.axes.join(', ')} is not supported`);
        const groupSize = perSample ? sampleSize : out.length;
        for (let start = 0; start < out.length; start += groupSize) {
          const group = out.subarray(start, start + groupSize);
          const sorted = Float32Array.from(group).sort();
          const low = percentile(sorted, step.kwargs.min_percentile);
          const high = percentile(sorted, step.kwargs.max_percentile);
          for (let i = 0; i < group.length; i++) group[i] = (group[i]! - low) / (high - low + step.kwargs.eps);
        }
        break;
      }
    }
  }
  return out;
}

/** NumPy's default ('linear') percentile of sorted values. */
function percentile(sorted: Float32Array, percent: number): number {
  const position = (percent / 100) * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}
