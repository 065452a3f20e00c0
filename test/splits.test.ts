import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignSplits } from '../app/dataset/splits.js';

const images = (count: number, prefix = 'img') => Array.from({ length: count }, (_, index) => ({ id: `${prefix}${index}`, split: 'auto' as const }));

test('auto split: the rounded percentage goes to validation, the same way every time', () => {
  const settings = { validationPercent: 10, seed: 1 };
  const splits = assignSplits(images(48), settings);
  assert.equal([...splits.values()].filter((split) => split === 'val').length, 5);
  assert.deepEqual(assignSplits(images(48), settings), splits);
  const otherSeed = assignSplits(images(48), { validationPercent: 10, seed: 2 });
  assert.notDeepEqual(otherSeed, splits);
});

test('auto split: user splits are kept; tiny sets still validate on one image; 0% validates none', () => {
  const mixed = [...images(3), { id: 'mine', split: 'test' as const }, { id: 'val-by-hand', split: 'val' as const }];
  const splits = assignSplits(mixed, { validationPercent: 10, seed: 1 });
  assert.equal(splits.get('mine'), 'test');
  assert.equal(splits.get('val-by-hand'), 'val');
  assert.equal(['img0', 'img1', 'img2'].filter((id) => splits.get(id) === 'val').length, 1);
  assert.equal([...assignSplits(images(20), { validationPercent: 0, seed: 1 }).values()].includes('val'), false);
});

test('auto split is stable as images are added: few existing images change side', () => {
  const settings = { validationPercent: 20, seed: 4 };
  const before = assignSplits(images(100), settings);
  const after = assignSplits([...images(100), ...images(5, 'new')], settings);
  const moved = [...before].filter(([id, split]) => after.get(id) !== split).length;
  assert.ok(moved <= 4, `${moved} images changed split`);
});
