// The training view's rules, plain TypeScript the renderer imports: run states as users read them,
// when a run can resume, the split warning (which must agree with the splitter), and axis labels.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImageEntry } from '../app/contract/schemas.js';
import type { RunSummary } from '../app/contract/training.js';
import { assignSplits } from '../app/dataset/splits.js';
import { fromZeroRange, scientific, scientificLabels, WHOLE_INCREMENTS, wholeNumberLabels } from '../app/monitor/axis-ticks.js';
import { canResume, runStateDetail, runStateLabel } from '../app/monitor/run-states.js';
import { trainingSplitCounts } from '../app/monitor/training-split.js';

const run = (state: RunSummary['state'], epochsDone: number, error: string | null = null) =>
  ({ state, epochsDone, error, config: { settings: { epochs: 10, patience: 3 } } }) as unknown as RunSummary;

describe('training view rules', () => {
  it('names run states as users read them and offers Resume only where the run can continue', () => {
    assert.deepEqual((['completed', 'stopped', 'cancelled', 'failed', 'running'] as const).map(runStateLabel), ['completed', 'stopped early', 'stopped by you', 'failed', 'running']);
    assert.match(runStateDetail(run('cancelled', 4)), /You stopped it after 4 of 10 epochs; Resume/);
    assert.match(runStateDetail(run('stopped', 6)), /did not improve for 3 epochs/);
    assert.match(runStateDetail(run('failed', 2, 'Out of memory.')), /Failed after 2 epochs: Out of memory\./);
    assert.deepEqual([run('cancelled', 4), run('failed', 2), run('stopped', 6), run('completed', 10), run('running', 3), run('cancelled', 10)].map(canResume), [true, true, true, false, false, false]);
  });

  it('counts the validation images a run would get exactly as the splitter assigns them', () => {
    const entry = (index: number, split: ImageEntry['split'], labelled = true) => ({ id: `img${index}`, split, mask: labelled ? `masks/img${index}.png` : null });
    for (const [images, percent] of [
      [[entry(1, 'auto')], 10],
      [[entry(1, 'auto'), entry(2, 'auto')], 10],
      [[entry(1, 'auto'), entry(2, 'auto'), entry(3, 'auto', false)], 0],
      [Array.from({ length: 23 }, (_, index) => entry(index, index % 7 === 0 ? 'val' : index % 5 === 0 ? 'train' : 'auto')), 20],
      [[...Array.from({ length: 9 }, (_, index) => entry(index, 'auto')), entry(9, 'test')], 30],
    ] as const) {
      const labelled = images.filter((image) => image.mask !== null);
      const assigned = [...assignSplits(labelled, { validationPercent: percent, seed: 3 }).values()];
      const expected = { train: assigned.filter((split) => split === 'train').length, val: assigned.filter((split) => split === 'val').length };
      assert.deepEqual(trainingSplitCounts(images, percent), expected, `${images.length} images at ${percent}%`);
    }
    assert.deepEqual(trainingSplitCounts([entry(1, 'auto')], 30), { train: 1, val: 0 }, 'one labelled image trains with no validation');
  });

  it('labels epochs as whole numbers and learning rates in scientific notation that tells ticks apart', () => {
    assert.ok(WHOLE_INCREMENTS.every(Number.isInteger));
    assert.deepEqual(wholeNumberLabels([1, 2, 2.5, 3]), ['1', '2', '', '3']);
    assert.deepEqual(scientificLabels([0, 0.0005, 0.001, 0.0015, 0.002]), ['0', '5e-4', '1e-3', '1.5e-3', '2e-3']);
    assert.deepEqual(scientificLabels([0.00195, 0.002, 0.00205]), ['1.95e-3', '2e-3', '2.05e-3']);
    assert.equal(scientific(0.000123456, 3), '1.235e-4');
    assert.deepEqual(fromZeroRange(0.002), [0, 0.0023]);
    assert.deepEqual(fromZeroRange(null), [0, 1]);
  });
});
