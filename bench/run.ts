import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchAccuracy } from './accuracy.js';
import type { BenchResult } from './bench-result.js';
import { benchConvGrad } from './conv-grad.js';
import { benchEditor } from './editor.js';
import { benchOnnxCheck } from './onnx-check.js';
import { benchScale } from './scale.js';
import { benchSegmentScale } from './segment-scale.js';
import { benchSegmentSpeed } from './segment-speed.js';
import { benchTrainMemory } from './train-memory.js';
import { benchTrainSpeed } from './train-speed.js';

const BENCHES: Record<string, () => Promise<BenchResult>> = {
  scale: benchScale,
  editor: benchEditor,
  'conv-grad': benchConvGrad,
  'segment-scale': benchSegmentScale,
  'onnx-check': benchOnnxCheck,
  'train-speed': benchTrainSpeed,
  'train-memory': benchTrainMemory,
  'segment-speed': benchSegmentSpeed,
  accuracy: benchAccuracy,
};

const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

/** `npm run bench` runs every bench; `npm run bench -- <name>` runs one. */
async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !BENCHES[name]);
  if (unknown.length) {
    process.stderr.write(`Unknown bench ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}.\n`);
    process.exit(2);
  }
  await mkdir(RESULTS_DIR, { recursive: true });
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.arch()}` };
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    const result = await BENCHES[name]!();
    const record = { ...result, machine, date: new Date().toISOString() };
    await writeFile(`${RESULTS_DIR}${name}.json`, `${JSON.stringify(record, null, 2)}\n`);
    process.stdout.write(`${name}: ${JSON.stringify(result.figures)}  goals: ${JSON.stringify(result.goals)}\n`);
  }
}

await main();
