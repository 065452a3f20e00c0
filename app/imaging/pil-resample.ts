/**
 * Pillow's `Image.resize(size, Image.BICUBIC)`, reproduced to the bit for 8-bit images: the reference
 * PyTorch tools resize with it, and a model trained on its output segments best on the same pixels.
 * Pillow resamples separably (rows first, then columns) with a cubic kernel (a = -0.5) widened by the
 * scale when shrinking, which is its antialiasing; 8-bit images use 22-bit fixed-point weights and
 * round and clip after each pass (libImaging/Resample.c: precompute_coeffs, normalize_coeffs_8bpc,
 * ImagingResampleHorizontal/Vertical_8bpc, ImagingResampleInner).
 */

const BICUBIC_SUPPORT = 2;
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

interface AxisWeights {
  /** First source index and count of taps, per output index. */
  first: Int32Array;
  count: Int32Array;
  /** Weights, `taps` per output index (unused taps are 0). */
  weights: Float64Array;
  taps: number;
}

function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** precompute_coeffs for the box (0, inSize): source taps and normalised weights per output index. */
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = BICUBIC_SUPPORT * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  const inverse = 1 / filterScale;
  for (let out = 0; out < outSize; out++) {
    const centre = (out + 0.5) * scale;
    // C's (int) cast truncates towards zero.
    const min = Math.max(0, Math.trunc(centre - support + 0.5));
    const max = Math.min(inSize, Math.trunc(centre + support + 0.5)) - min;
    let sum = 0;
    for (let x = 0; x < max; x++) {
      const w = bicubic((x + min - centre + 0.5) * inverse);
      weights[out * taps + x] = w;
      sum += w;
    }
    if (sum !== 0) for (let x = 0; x < max; x++) weights[out * taps + x] = weights[out * taps + x]! / sum;
    first[out] = min;
    count[out] = max;
  }
  return { first, count, weights, taps };
}

/** normalize_coeffs_8bpc: weights as integers scaled by 2^22, rounded half away from zero. */
function fixedPoint(axis: AxisWeights): AxisWeights {
  return { ...axis, weights: Float64Array.from(axis.weights, (w) => Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE)) };
}

/** clip8: the fixed-point sum (which started at one half) shifted back to 8 bits and clamped. */
function clip8(sum: number): number {
  return Math.min(255, Math.max(0, Math.floor(sum / ONE)));
}

/**
 * One separable pass along an axis of an interleaved image: `lines` lines of `length` samples become
 * lines of `axis.count.length` samples; `stride` steps along the line, `lineStride` between lines.
 */
function resamplePass<T extends Uint8Array | Float32Array>(
  source: T,
  target: T,
  axis: AxisWeights,
  geometry: { lines: number; sourceLine: (line: number) => number; targetLine: (line: number) => number; sourceStep: number; targetStep: number },
  fixed: boolean,
): void {
  const outSize = axis.count.length;
  for (let line = 0; line < geometry.lines; line++) {
    const from = geometry.sourceLine(line);
    const to = geometry.targetLine(line);
    for (let out = 0; out < outSize; out++) {
      const start = from + axis.first[out]! * geometry.sourceStep;
      const taps = axis.count[out]!;
      const base = out * axis.taps;
      let sum = fixed ? ONE / 2 : 0;
      for (let k = 0; k < taps; k++) sum += source[start + k * geometry.sourceStep]! * axis.weights[base + k]!;
      target[to + out * geometry.targetStep] = fixed ? clip8(sum) : sum;
    }
  }
}

function resize<T extends Uint8Array | Float32Array>(data: T, width: number, height: number, channels: number, outWidth: number, outHeight: number, make: (length: number) => T, fixed: boolean): T {
  if (outWidth === width && outHeight === height) return data;
  const prepare = (axis: AxisWeights) => (fixed ? fixedPoint(axis) : axis);
  const vertical = axisWeights(height, outHeight);
  // Only the source rows the vertical pass reads go through the horizontal pass.
  const firstRow = vertical.first[0]!;
  const lastRow = vertical.first[outHeight - 1]! + vertical.count[outHeight - 1]!;
  let rows: T = data;
  let rowsHeight = height;
  let rowOffset = 0;
  if (outWidth !== width) {
    rowsHeight = lastRow - firstRow;
    rowOffset = firstRow;
    rows = make(outWidth * rowsHeight * channels);
    const horizontal = prepare(axisWeights(width, outWidth));
    for (let c = 0; c < channels; c++) {
      resamplePass(data, rows, horizontal, {
        lines: rowsHeight,
        sourceLine: (line) => (line + firstRow) * width * channels + c,
        targetLine: (line) => line * outWidth * channels + c,
        sourceStep: channels,
        targetStep: channels,
      }, fixed);
    }
  }
  if (outHeight === height) return rows;
  const shifted = { ...prepare(vertical), first: Int32Array.from(vertical.first, (row) => row - rowOffset) };
  const out = make(outWidth * outHeight * channels);
  for (let c = 0; c < channels; c++) {
    resamplePass(rows, out, shifted, {
      lines: outWidth,
      sourceLine: (column) => column * channels + c,
      targetLine: (column) => column * channels + c,
      sourceStep: outWidth * channels,
      targetStep: outWidth * channels,
    }, fixed);
  }
  return out;
}

/** 8-bit interleaved samples resized exactly as Pillow does for modes L, LA, RGB and RGBA. */
export function pilBicubic8(data: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): Uint8Array {
  return resize(data, width, height, channels, outWidth, outHeight, (length) => new Uint8Array(length), true);
}

/** Float samples resized with the same weights in floating point, as Pillow does for mode F. */
export function pilBicubicFloat(data: Float32Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): Float32Array {
  return resize(data, width, height, channels, outWidth, outHeight, (length) => new Float32Array(length), false);
}
