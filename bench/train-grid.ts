import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { lastJsonLine } from './bench-child.js';
import { type BenchResult, resultsPath, saveBenchResult } from './bench-result.js';
import type { GridCell, GridOutcome } from './train-grid-child.js';

const CHILD = fileURLToPath(new URL('./train-grid-child.js', import.meta.url));

type CellOutcome = GridOutcome | { status: 'crashed'; message: string };
/** One cell's outcome as the results file keeps it, with when it ran (a grid fills over several runs). */
interface CellRecord extends GridCell {
  outcome: CellOutcome;
  date: string;
}

/** The full grid's axes; the environment narrows them. */
const FULL_GRID = { CHANNELS: [1, 3], BASES: [8, 16, 32], SIZES: [256, 512, 768, 1024], BATCHES: [1, 2, 4, 8] };
const FULL_GRID_CELLS = Object.values(FULL_GRID).reduce((cells, values) => cells * values.length, 1);

/** A grid axis, from the environment (e.g. TRAIN_GRID_SIZES=256,512) or the full default. */
function axis(name: keyof typeof FULL_GRID): number[] {
  const given = process.env[`TRAIN_GRID_${name}`];
  return given ? given.split(',').map(Number) : FULL_GRID[name];
}

/** One cell in its own process, so that a trap in the backend fails the cell, not the bench. */
export async function runGridCell(cell: GridCell): Promise<CellOutcome> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, JSON.stringify(cell)], { maxBuffer: 16 * 1024 * 1024 });
    return lastJsonLine<GridOutcome>(stdout);
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    return { status: 'crashed', message: (stderr || message).trim().split('\n').slice(-3).join(' ') };
  }
}

const sameCell = (a: GridCell, b: GridCell): boolean => a.size === b.size && a.batch === b.batch && a.base === b.base && a.channels === b.channels;
/** Rough step cost, so that a run stopped early has covered the most cells. */
const cost = (cell: GridCell): number => cell.size ** 2 * cell.batch * cell.base ** 1.5 * (cell.channels === 3 ? 1.1 : 1);

/** Cells recorded by earlier runs (TRAIN_GRID_RESUME=1), so the hours the whole grid takes can be split over runs. */
async function recordedCells(): Promise<CellRecord[]> {
  if (process.env.TRAIN_GRID_RESUME !== '1') return [];
  const text = await readFile(resultsPath('train-grid'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  const cells = text === null ? undefined : (JSON.parse(text) as BenchResult).series?.cells;
  return Array.isArray(cells) ? (cells as CellRecord[]) : [];
}

function gridResult(records: CellRecord[]): BenchResult {
  const ordered = [...records].sort((a, b) => a.channels - b.channels || a.base - b.base || a.size - b.size || a.batch - b.batch);
  const counts = { ran: 0, microBatched: 0, refused: 0, crashed: 0 };
  const rows = ['| size | batch | base | ch | outcome | step s | heap MiB |', '|---|---|---|---|---|---|---|'];
  for (const { outcome, ...cell } of ordered) {
    counts[outcome.status]++;
    if (outcome.status === 'ran' && outcome.plan.includes(' as ')) counts.microBatched++;
    const cells =
      outcome.status === 'ran'
        ? [`ran, ${outcome.plan}`, outcome.seconds.toFixed(1), String(Math.round(outcome.heapMiB))]
        : [`${outcome.status}: ${outcome.message.replace(/\|/g, '/')}`, '', ''];
    rows.push(`| ${cell.size} | ${cell.batch} | ${cell.base} | ${cell.channels} | ${cells.join(' | ')} |`);
  }
  return {
    name: 'train-grid',
    figures: { cells: `${records.length} of the full grid's ${FULL_GRID_CELLS}`, ...counts },
    goals: { crashedAtMost: 0, met: counts.crashed === 0 },
    series: { cells: ordered, table: rows.join('\n') },
  };
}

/**
 * One training step on the wasm backend in every cell of sizes 256-1024, batch 1-8, base 8-32, 1
 * and 3 channels: each runs (whole or in micro-batches, as the memory planner decides) or is
 * refused before training with the planner's message. Goal: no cell crashes. The axes can be
 * narrowed with TRAIN_GRID_SIZES, _BATCHES, _BASES and _CHANNELS; cheap cells run first, and the
 * results file is rewritten after every cell, so a stopped run keeps what it measured and
 * TRAIN_GRID_RESUME=1 goes on from there.
 */
export async function benchTrainGrid(): Promise<BenchResult> {
  const grid: GridCell[] = [];
  for (const channels of axis('CHANNELS') as Array<1 | 3>)
    for (const base of axis('BASES') as Array<GridCell['base']>)
      for (const size of axis('SIZES')) for (const batch of axis('BATCHES')) grid.push({ size, batch, base, channels });
  // Earlier cells outside today's axes stay in the file: narrowing a resumed run must not drop them.
  const records = await recordedCells();
  const pending = grid.filter((cell) => !records.some((record) => sameCell(cell, record))).sort((a, b) => cost(a) - cost(b));
  for (const cell of pending) {
    const outcome = await runGridCell(cell);
    records.push({ ...cell, outcome, date: new Date().toISOString() });
    process.stderr.write(`${cell.size}x${cell.size} batch ${cell.batch} base ${cell.base} ch ${cell.channels}: ${outcome.status === 'ran' ? `ran, ${outcome.plan}, ${outcome.seconds.toFixed(1)} s` : `${outcome.status}: ${outcome.message}`}\n`);
    if (pending.at(-1) !== cell) await saveBenchResult(gridResult(records), { quiet: true });
  }
  return gridResult(records);
}
