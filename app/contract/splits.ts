/**
 * How many of `autoCount` auto-split images go to validation at `percent`: the percentage, rounded,
 * and at least one when there are two or more (one image alone always trains). Shared by the
 * splitter and the training view's warning, which must agree.
 */
export function validationCount(autoCount: number, percent: number): number {
  if (percent <= 0 || autoCount < 2) return 0;
  return Math.max(1, Math.round((autoCount * percent) / 100));
}
