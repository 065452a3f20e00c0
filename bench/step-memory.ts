import type { ModelConfig } from '../app/contract/training.js';
import { runNodeBench } from './bench-child.js';
import type { BenchResult } from './bench-result.js';

/** Shapes around those users train at, both phases of the peak (activations; the update of wide models) and the loss's class term. */
const CASES: Array<{ model: ModelConfig; size: number; batch: number }> = [
  ...[
    [256, 1, 8], [256, 4, 8], [512, 1, 8], [1024, 1, 8], [256, 2, 16], [512, 1, 16], [512, 2, 16], [768, 1, 16], [128, 1, 32], [256, 1, 32], [512, 1, 32], [64, 1, 64],
  ].map(([size, batch, base]) => ({ model: { base: base as 8, upsampling: 'transpose' as const, inputChannels: 1 as const, classes: 2 }, size: size!, batch: batch! })),
  { model: { base: 16, upsampling: 'bilinear', inputChannels: 3, classes: 2 }, size: 512, batch: 1 },
  { model: { base: 8, upsampling: 'transpose', inputChannels: 3, classes: 5 }, size: 512, batch: 2 },
  { model: { base: 16, upsampling: 'transpose', inputChannels: 1, classes: 12 }, size: 256, batch: 2 },
];

/**
 * The memory planner's estimate of a training step's peak (app/engine/memory/step-memory.ts)
 * against the peak measured on the wasm backend: weights and optimizer state plus the most tensor
 * memory the step holds at once. The estimate must not fall short by more than a few percent (the
 * plan keeps 20% of the heap in reserve); overestimates only cost batch size.
 */
export async function benchStepMemory(): Promise<BenchResult> {
  const rows: string[] = [];
  let worstUnder = 0;
  let worstOver = 0;
  for (const testCase of CASES) {
    const { measuredBytes, estimatedBytes } = await runNodeBench<{ measuredBytes: number; estimatedBytes: number }>('step-memory-child.js', [JSON.stringify(testCase)]);
    const error = (estimatedBytes - measuredBytes) / measuredBytes;
    worstUnder = Math.min(worstUnder, error);
    worstOver = Math.max(worstOver, error);
    const { base, upsampling, inputChannels, classes } = testCase.model;
    const row = `${testCase.size}² b${testCase.batch} base ${base} ${upsampling} ${inputChannels}ch ${classes}cl: measured ${mib(measuredBytes)} MiB, estimated ${mib(estimatedBytes)} MiB (${(error * 100).toFixed(1)}%)`;
    process.stderr.write(`${row}\n`);
    rows.push(row);
  }
  return {
    name: 'step-memory',
    figures: { cases: CASES.length, worstUnderestimatePercent: round(worstUnder * 100), worstOverestimatePercent: round(worstOver * 100), detail: rows.join('; ') },
    goals: { underestimateAtMostPercent: 5, met: worstUnder >= -0.05 },
  };
}

function mib(bytes: number): number {
  return Math.round(bytes / 2 ** 20);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
