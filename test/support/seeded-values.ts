import assert from 'node:assert/strict';

/** Deterministic values in [-1, 1) so failures reproduce. */
export function seededValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

/**
 * Every element within `tolerance` times the larger of `floor` and the expected values' largest
 * magnitude (floor 0: relative to the values themselves, for gradients far below 1).
 */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tolerance = 1e-4, floor = 1): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let magnitude = floor;
  for (let i = 0; i < expected.length; i++) magnitude = Math.max(magnitude, Math.abs(expected[i]!));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  assert.ok(worst <= tolerance * magnitude, `${label}: max abs error ${worst} exceeds ${tolerance} x ${magnitude}`);
}
