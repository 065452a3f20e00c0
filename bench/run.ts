import { benchAccuracy } from './accuracy.js';
import { type BenchResult, saveBenchResult } from './bench-result.js';
import { benchConvGrad } from './conv-grad.js';
import { benchEditor } from './editor.js';
import { benchLiveAssist } from './live-assist.js';
import { benchOnnxCheck } from './onnx-check.js';
import { benchScale } from './scale.js';
import { benchSegmentScale } from './segment-scale.js';
import { benchSegmentSpeed } from './segment-speed.js';
import { benchStepMemory } from './step-memory.js';
import { benchTrainGrid } from './train-grid.js';
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
  'step-memory': benchStepMemory,
  'train-grid': benchTrainGrid,
  'live-assist': benchLiveAssist,
};

/** `npm run bench` runs every bench; `npm run bench -- <name>` runs one. */
async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !BENCHES[name]);
  if (unknown.length) {
    process.stderr.write(`Unknown bench ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}.\n`);
    process.exit(2);
  }
  for (const name of names.length ? names : Object.keys(BENCHES)) await saveBenchResult(await BENCHES[name]!());
}

await main();
