import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** What every bench prints and writes to bench/results/<name>.json. */
export interface BenchResult {
  name: string;
  figures: Record<string, number | string>;
  goals: Record<string, number | boolean>;
  /** Figures over time, where a bench records them (e.g. Dice per prediction). */
  series?: Record<string, unknown>;
}

const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

/** Where bench/results/<name>.json lives. */
export const resultsPath = (name: string): string => `${RESULTS_DIR}${name}.json`;

/** Writes bench/results/<name>.json with the machine and date, and prints the figures unless told to be quiet (a bench saving as it goes). */
export async function saveBenchResult(result: BenchResult, options: { quiet?: boolean } = {}): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.arch()}` };
  const record = { ...result, machine, date: new Date().toISOString() };
  await writeFile(resultsPath(result.name), `${JSON.stringify(record, null, 2)}\n`);
  if (!options.quiet) process.stdout.write(`${result.name}: ${JSON.stringify(result.figures)}  goals: ${JSON.stringify(result.goals)}\n`);
}
