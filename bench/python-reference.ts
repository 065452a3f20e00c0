import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { lastJsonLine } from './bench-child.js';

const run = promisify(execFile);
/** Debian's python3 with python3-torch, not a pyenv python earlier on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const PYTORCH_DIR = fileURLToPath(new URL('../../bench/pytorch/', import.meta.url));

/** Installs Debian's python3-torch when it is missing (the benches' PyTorch reference). */
export function ensurePyTorch(): void {
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    process.stderr.write('Installing the PyTorch reference (apt-get install python3-torch) ...\n');
    execFileSync('apt-get', ['install', '-y', '-qq', 'python3-torch'], { stdio: 'inherit' });
  }
}

/** Runs a script of bench/pytorch/ and parses the JSON line it prints last; `python` for another interpreter (a GPU machine's). */
export async function runPythonBench<T>(script: string, args: string[], python = SYSTEM_PYTHON): Promise<T> {
  const { stdout } = await run(python, [script, ...args], { cwd: PYTORCH_DIR, maxBuffer: 16 * 1024 * 1024 });
  return lastJsonLine<T>(stdout);
}
