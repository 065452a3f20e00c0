import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ModelConfig } from '../app/contract/training.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { layersModelToOnnx, ONNX_OPSET } from '../app/export/onnx/layers-to-onnx.js';
import { encodeOnnxModel } from '../app/export/onnx/onnx-schema.js';
import type { BenchResult } from './bench-result.js';

const PYTHON = '/usr/bin/python3';
// full_check also runs ONNX's strict shape inference over the whole graph.
const CHECK_SCRIPT = [
  'import sys, onnx',
  'for file in sys.argv[1:]:',
  '    onnx.checker.check_model(onnx.load(file), full_check=True)',
  'print(onnx.__version__)',
].join('\n');

const MODELS: Record<string, ModelConfig> = {
  transposeGrey: { base: 16, upsampling: 'transpose', inputChannels: 1, classes: 2 },
  bilinearColour3Class: { base: 16, upsampling: 'bilinear', inputChannels: 3, classes: 3 },
};

/**
 * Goal: every exported U-Net passes the official ONNX checker (Debian's python3-onnx), independent of
 * onnxruntime's leniency. Also reports export time and file size at base 16.
 */
export async function benchOnnxCheck(): Promise<BenchResult> {
  await initialiseBackend('wasm');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unet-bench-onnx-'));
  try {
    const figures: BenchResult['figures'] = { opset: ONNX_OPSET };
    const files: string[] = [];
    for (const [name, config] of Object.entries(MODELS)) {
      const model = buildUnet(config);
      const start = performance.now();
      const bytes = encodeOnnxModel(
        layersModelToOnnx(model, { probabilities: true, graphName: name, producerVersion: 'bench', docString: '', metadata: { bench: name } }),
      );
      figures[`${name}ExportMs`] = Math.round(performance.now() - start);
      figures[`${name}Bytes`] = bytes.length;
      model.dispose();
      const file = path.join(dir, `${name}.onnx`);
      await writeFile(file, bytes);
      files.push(file);
    }
    const checked = await promisify(execFile)(PYTHON, ['-c', CHECK_SCRIPT, ...files]).then(
      ({ stdout }) => ({ passed: true, detail: `pass (onnx ${stdout.trim()})` }),
      (err: NodeJS.ErrnoException & { stderr?: string }) => ({ passed: false, detail: `fail: ${(err.stderr || err.message).trim().split('\n').at(-1)}` }),
    );
    figures.checker = checked.detail;
    return { name: 'onnx-check', figures, goals: { checkerPasses: true, met: checked.passed } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
