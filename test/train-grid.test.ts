import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runGridCell } from '../bench/train-grid.js';

// The bench walks the whole grid (npm run bench -- train-grid); here one cell of each outcome.
test('a grid cell that fits trains one step; one that cannot fit one image is refused with a patch that fits, and neither crashes', async () => {
  const fits = await runGridCell({ size: 256, batch: 2, base: 8, channels: 1 });
  assert.equal(fits.status, 'ran', JSON.stringify(fits));
  assert.equal(fits.status === 'ran' && fits.plan, 'batch 2');
  const tooLarge = await runGridCell({ size: 1024, batch: 1, base: 32, channels: 3 });
  assert.equal(tooLarge.status, 'refused', JSON.stringify(tooLarge));
  assert.match(tooLarge.status === 'refused' ? tooLarge.message : '', /One 1024x1024 image at base 32 needs about .* --patch \d+/);
});
