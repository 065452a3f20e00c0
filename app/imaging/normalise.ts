import { colourChannelCount, type RasterImage } from './read-image.js';

/** Quoted by the README and the model metadata; keep it in step with `intensityTable`. */
export const NORMALISATION_RULE =
  '8-bit images are scaled by value/255; 16-bit images are stretched linearly from their own 0.1th to 99.9th ' +
  'percentile (over all colour channels) to [0, 1] and clipped, or scaled by value/65535 when those percentiles are equal.';

const LOW_PERCENTILE = 0.001;
const HIGH_PERCENTILE = 0.999;

/** Intensities in [0, 1], same layout as the raster. Alpha, if present, is scaled by its full range. */
export function normalisedFloat(raster: RasterImage): Float32Array {
  return normaliserFor(raster)(raster);
}

/**
 * The rule fitted on the whole raster (its 16-bit percentiles), applicable to any crop of it: large
 * images are segmented strip by strip without a float copy of the whole image.
 */
export function normaliserFor(raster: RasterImage): (region: RasterImage) => Float32Array {
  const colourTable = intensityTable(raster);
  const alphaValues = alphaTable(raster.bitDepth);
  return (region) => applyPerChannel(region, colourTable, alphaValues, new Float32Array(region.data.length));
}

/**
 * The same rule as `normalisedFloat`, rounded to 8 bits for display. For 8-bit images the rule is
 * the identity, so their samples come back as they are (not copied: an 8000² RGB image is 192 MB,
 * and mapping it took over a second of a big image's open); callers only read the result.
 */
export function toDisplay8(raster: RasterImage): Uint8Array {
  if (raster.data instanceof Uint8Array) return raster.data;
  return applyPerChannel(
    raster,
    toBytes(intensityTable(raster)),
    toBytes(alphaTable(raster.bitDepth)),
    new Uint8Array(raster.data.length),
  );
}

/** The stored values the rule maps to 0 and 1 (the editor's default contrast limits for the image). */
export function intensityRange(raster: RasterImage): { low: number; high: number } {
  if (raster.bitDepth === 8) return { low: 0, high: 255 };
  const histogram = colourHistogram(raster);
  const low = percentileValue(histogram, LOW_PERCENTILE);
  const high = percentileValue(histogram, HIGH_PERCENTILE);
  return low === high ? { low: 0, high: 65535 } : { low, high };
}

/** Maps every possible stored value to its normalised intensity, so applying the rule is one lookup per sample. */
function intensityTable(raster: RasterImage): Float32Array {
  const { low, high } = intensityRange(raster);
  return linearTable(raster.bitDepth === 8 ? 256 : 65536, low, high);
}

// Alpha is opacity, not intensity, so it is never stretched.
function alphaTable(bitDepth: 8 | 16): Float32Array {
  return bitDepth === 8 ? linearTable(256, 0, 255) : linearTable(65536, 0, 65535);
}

function linearTable(size: number, low: number, high: number): Float32Array {
  const table = new Float32Array(size);
  const scale = 1 / (high - low);
  for (let value = 0; value < size; value++) table[value] = Math.min(1, Math.max(0, (value - low) * scale));
  return table;
}

function toBytes(table: Float32Array): Uint8Array {
  return Uint8Array.from(table, (v) => Math.round(v * 255));
}

function colourHistogram(raster: RasterImage): Uint32Array {
  const histogram = new Uint32Array(65536);
  const colourChannels = colourChannelCount(raster.channels);
  const { data, channels } = raster;
  for (let i = 0; i < data.length; i += channels) {
    for (let c = 0; c < colourChannels; c++) histogram[data[i + c]]++;
  }
  return histogram;
}

/** The value at rank round(p * (n - 1)) in sorted order (nearest-rank percentile). */
function percentileValue(histogram: Uint32Array, p: number): number {
  let total = 0;
  for (const count of histogram) total += count;
  const rank = Math.round(p * (total - 1));
  let seen = 0;
  for (let value = 0; value < histogram.length; value++) {
    seen += histogram[value];
    if (seen > rank) return value;
  }
  return histogram.length - 1;
}

function applyPerChannel<T extends Float32Array | Uint8Array>(
  raster: RasterImage,
  colourTable: ArrayLike<number>,
  alphaValues: ArrayLike<number>,
  out: T,
): T {
  const { data, channels } = raster;
  const colourChannels = colourChannelCount(channels);
  for (let i = 0; i < data.length; i += channels) {
    for (let c = 0; c < colourChannels; c++) out[i + c] = colourTable[data[i + c]];
    if (colourChannels < channels) out[i + colourChannels] = alphaValues[data[i + colourChannels]];
  }
  return out;
}
