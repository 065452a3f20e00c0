/**
 * Contrast limits and gamma for the shown image, as napari and Fiji set them: values at or below
 * `low` show black, at or above `high` white, and gamma bends the ramp between. The limits are in
 * the image's own units (0-255 for 8-bit, 0-65535 for 16-bit), so a 16-bit image keeps its full
 * range: its stored values go through one lookup table straight to the shown intensity. The stored
 * image never changes.
 */
export interface Levels {
  low: number;
  high: number;
  gamma: number;
}

export const IDENTITY_LEVELS: Levels = { low: 0, high: 255, gamma: 1 };

/** Percentiles `auto` clips at (the same defaults as Fiji's auto contrast: 0.35% at each end). */
export const AUTO_CLIP_PERCENT = 0.35;

export function sameLevels(a: Levels, b: Levels): boolean {
  return a.low === b.low && a.high === b.high && a.gamma === b.gamma;
}

/** The lookup table from every stored value (0 … maxValue) to the intensity shown (0-255). */
export function levelsTable(levels: Levels, maxValue = 255): Uint8ClampedArray {
  const table = new Uint8ClampedArray(maxValue + 1);
  const span = Math.max(1, levels.high - levels.low);
  for (let value = 0; value <= maxValue; value++) {
    const t = Math.min(1, Math.max(0, (value - levels.low) / span));
    table[value] = Math.round(255 * t ** (1 / levels.gamma));
  }
  return table;
}

/**
 * Contrast limits at the `clipPercent` and `100 - clipPercent` percentiles of the given colour
 * samples (gamma 1), in their own units: a 16-bit image gets 16-bit limits.
 */
export function autoLevels(samples: ArrayLike<number>, maxValue: number, clipPercent = AUTO_CLIP_PERCENT): Levels {
  const histogram = new Float64Array(maxValue + 1);
  for (let i = 0; i < samples.length; i++) histogram[samples[i]!]! += 1;
  const total = samples.length;
  const percentile = (fraction: number) => {
    let seen = 0;
    for (let value = 0; value <= maxValue; value++) {
      seen += histogram[value]!;
      if (seen > fraction * total) return value;
    }
    return maxValue;
  };
  const low = percentile(clipPercent / 100);
  const high = Math.max(low + 1, percentile(1 - clipPercent / 100));
  return { low, high: Math.min(maxValue, high), gamma: 1 };
}
