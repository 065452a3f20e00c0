import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { lastJsonLine } from './bench-child.js';
import type { BenchResult } from './bench-result.js';
import type { GridCell, GridOutcome } from './train-grid-child.js';

const CHILD = fileURLToPath(new URL('./train-grid-child.js', import.meta.url));

/** A grid axis, from the environment (e.g. TRAIN_GRID_SIZES=256,512) or the full default. */
function axis(name: string, full: number[]): number[] {
  const given = process.env[`TRAIN_GRID_${name}`];
  return given ? given.split(',').map(Number) : full;
}

/** One cell in its own process, so that a trap in the backend fails the cell, not the bench. */
export async function runGridCell(cell: GridCell): Promise<GridOutcome | { status: 'crashed'; message: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, JSON.stringify(cell)], { maxBuffer: 16 * 1024 * 1024 });
    return lastJsonLine<GridOutcome>(stdout);
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    return { status: 'crashed', message: (stderr || message).trim().split('\n').slice(-3).join(' ') };
  }
}

/**
 * One training step on the wasm backend in every cell of sizes 256-1024, batch 1-8, base 8-32, 1
 * and 3 channels: each runs (whole or in micro-batches, as the memory planner decides) or is
 * refused before training with the planner's message. Goal: no cell crashes. The axes can be
 * narrowed with TRAIN_GRID_SIZES, _BATCHES, _BASES and _CHANNELS.
 */
export async function benchTrainGrid(): Promise<BenchResult> {
  const rows: string[] = ['| size | batch | base | channels | outcome | step s | heap MiB |', '|---|---|---|---|---|---|---|'];
  const counts = { ran: 0, microBatched: 0, refused: 0, crashed: 0 };
  for (const channels of axis('CHANNELS', [1, 3]) as Array<1 | 3>) {
    for (const base of axis('BASES', [8, 16, 32]) as Array<GridCell['base']>) {
      for (const size of axis('SIZES', [256, 512, 768, 1024])) {
        for (const batch of axis('BATCHES', [1, 2, 4, 8])) {
          const outcome = await runGridCell({ size, batch, base, channels });
          counts[outcome.status]++;
          const cells =
            outcome.status === 'ran'
              ? [`ran, ${outcome.plan}`, outcome.seconds.toFixed(1), String(Math.round(outcome.heapMiB))]
              : [`${outcome.status}: ${outcome.message.replace(/\|/g, '/')}`, '', ''];
          if (outcome.status === 'ran' && outcome.plan.includes(' as ')) counts.microBatched++;
          const row = `| ${size} | ${batch} | ${base} | ${channels} | ${cells.join(' | ')} |`;
          process.stderr.write(`${row}\n`);
          rows.push(row);
        }
      }
    }
  }
  return {
    name: 'train-grid',
    figures: { ...counts, table: rows.join('\n') },
    goals: { crashedAtMost: 0, met: counts.crashed === 0 },
  };
}
