/**
 * Tick spacing and labels for the training charts (uPlot's `incrs` and `values`): epochs are whole
 * numbers, and learning rates are small numbers that only scientific notation tells apart.
 */

/** Whole-number tick increments, so the epoch axis never shows 2.5. */
export const WHOLE_INCREMENTS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000];

/** Labels for whole-number ticks; a fractional tick (uPlot may add one at the edge) stays blank. */
export function wholeNumberLabels(ticks: readonly number[]): string[] {
  return ticks.map((tick) => (Number.isInteger(tick) ? String(tick) : ''));
}

/** `value` in scientific notation with `digits` decimals of mantissa, trailing zeros trimmed: 2.5e-3, 1e-4. */
export function scientific(value: number, digits = 2): string {
  if (value === 0) return '0';
  const [mantissa, exponent] = value.toExponential(digits).split('e') as [string, string];
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  return `${trimmed}e${Number(exponent)}`;
}

/** Scientific labels with the fewest mantissa decimals (up to 4) that state every tick exactly, so neighbours differ. */
export function scientificLabels(ticks: readonly number[]): string[] {
  const exact = (label: string, tick: number) => Math.abs(Number(label) - tick) <= Math.abs(tick) * 1e-9;
  for (let digits = 0; ; digits++) {
    const labels = ticks.map((tick) => scientific(tick, digits));
    if (digits === 4 || labels.every((label, index) => exact(label, ticks[index]!))) return labels;
  }
}

/** The learning-rate axis starts at 0, so a constant rate sits on one clear tick instead of a zoomed band. */
export function fromZeroRange(max: number | null): [number, number] {
  return [0, max !== null && max > 0 ? max * 1.15 : 1];
}
