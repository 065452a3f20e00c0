import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The JSON line a bench child prints last (earlier lines are its logging). */
export function lastJsonLine<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

/**
 * Runs one of bench/'s own scripts (`name`, compiled beside this file) in a fresh Node process, so
 * what it measures is not affected by what the parent did before, and returns its JSON line.
 */
export async function runNodeBench<T>(name: string, args: readonly string[]): Promise<T> {
  const script = fileURLToPath(new URL(`./${name}`, import.meta.url));
  const { stdout } = await run(process.execPath, [script, ...args], { maxBuffer: 16 * 1024 * 1024 });
  return lastJsonLine<T>(stdout);
}
