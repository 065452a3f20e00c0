/**
 * Contrast limits and gamma for the shown image, as napari and Fiji set them: values at or below
 * `low` show black, at or above `high` white, and gamma bends the ramp between. They apply to the
 * displayed 8-bit picture through one 256-entry table; the stored image never changes.
 */
export interface Levels {
  low: number;
  high: number;
  gamma: number;
}

export const IDENTITY_LEVELS: Levels = { low: 0, high: 255, gamma: 1 };

/** Percentiles `auto` clips at (the same defaults as Fiji's auto contrast: 0.35% at each end). */
export const AUTO_CLIP_PERCENT = 0.35;

export function isIdentity(levels: Levels): boolean {
  return levels.low === IDENTITY_LEVELS.low && levels.high === IDENTITY_LEVELS.high && levels.gamma === IDENTITY_LEVELS.gamma;
}

/** The lookup table from a displayed value (0-255) to the value shown. */
export function levelsTable(levels: Levels): Uint8ClampedArray {
  const table = new Uint8ClampedArray(256);
  const span = Math.max(1, levels.high - levels.low);
  for (let value = 0; value < 256; value++) {
    const t = Math.min(1, Math.max(0, (value - levels.low) / span));
    table[value] = Math.round(255 * t ** (1 / levels.gamma));
  }
  return table;
}

/** Applies the table to the red, green and blue of RGBA pixels, in place (alpha is left alone). */
export function applyTable(rgba: Uint8ClampedArray, table: Uint8ClampedArray): void {
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = table[rgba[i]!]!;
    rgba[i + 1] = table[rgba[i + 1]!]!;
    rgba[i + 2] = table[rgba[i + 2]!]!;
  }
}

/** Contrast limits at the `clipPercent` and `100 - clipPercent` percentiles of all colour values (gamma 1). */
export function autoLevels(rgba: Uint8ClampedArray, clipPercent = AUTO_CLIP_PERCENT): Levels {
  const histogram = new Float64Array(256);
  for (let i = 0; i < rgba.length; i++) {
    if (i % 4 !== 3) histogram[rgba[i]!] = histogram[rgba[i]!]! + 1;
  }
  const total = (rgba.length / 4) * 3;
  const percentile = (fraction: number) => {
    let seen = 0;
    for (let value = 0; value < 256; value++) {
      seen += histogram[value]!;
      if (seen > fraction * total) return value;
    }
    return 255;
  };
  const low = percentile(clipPercent / 100);
  const high = Math.max(low + 1, percentile(1 - clipPercent / 100));
  return { low, high: Math.min(255, high), gamma: 1 };
}
