// The editor's contrast limits and gamma: the lookup table and auto limits at percentiles.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDENTITY_LEVELS, applyTable, autoLevels, isIdentity, levelsTable } from '../app/editor/display-levels.js';

describe('display levels', () => {
  it('maps the limits to black and white, with gamma bending the ramp between', () => {
    assert.deepEqual([...levelsTable(IDENTITY_LEVELS)], Array.from({ length: 256 }, (_, value) => value));
    const table = levelsTable({ low: 50, high: 150, gamma: 1 });
    assert.deepEqual([table[0], table[50], table[100], table[150], table[255]], [0, 0, 128, 255, 255]);
    const brighter = levelsTable({ low: 0, high: 255, gamma: 2 });
    assert.ok(brighter[64]! > 64 && brighter[0] === 0 && brighter[255] === 255);
    const rgba = new Uint8ClampedArray([100, 50, 150, 7]);
    applyTable(rgba, table);
    assert.deepEqual([...rgba], [128, 0, 255, 7], 'alpha is kept');
    assert.ok(isIdentity({ ...IDENTITY_LEVELS }) && !isIdentity({ ...IDENTITY_LEVELS, gamma: 1.5 }));
  });

  it('auto clips 0.35% at each end of the values', () => {
    // 1000 pixels: values 10..209 five times each, plus one outlier pixel at 0 and one at 255.
    const values = [0, 255, ...Array.from({ length: 1000 }, (_, index) => 10 + (index % 200))];
    const rgba = new Uint8ClampedArray(values.flatMap((value) => [value, value, value, 255]));
    const levels = autoLevels(rgba);
    assert.ok(levels.low >= 10 && levels.low <= 11, `low ${levels.low}`);
    assert.ok(levels.high >= 208 && levels.high <= 209, `high ${levels.high}`);
    assert.equal(levels.gamma, 1);
  });
});
