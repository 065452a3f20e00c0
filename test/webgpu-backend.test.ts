// The webgpu rung on a software GPU (Dawn on SwiftShader): what it reports, training on it with the
// tensor count flat across epochs, and how GPU errors and synchronous reads fail.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { TrainRequest } from '../app/contract/training.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { registerWebgpuTrainingKernels } from '../app/engine/backend/webgpu-kernels/index.js';
import { webgpuMemoryFacts } from '../app/engine/backend/webgpu/webgpu-memory.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { train } from '../app/engine/training/trainer.js';
import { noSoftwareGpu, softwareGpuEnv, useSoftwareGpu } from './support/software-gpu.js';
import { tempDir } from './support/temp-dir.js';
import { TINY_SETTINGS, tinyProject } from './support/tiny-project.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

before(() => useSoftwareGpu());

describe('the webgpu backend on SwiftShader', { skip: noSoftwareGpu }, () => {
  it('reports the adapter, as software, with its memory limits', async () => {
    const backend = await initialiseBackend('webgpu');
    assert.equal(backend.name, 'webgpu');
    assert.equal(backend.reason, 'chosen with --backend');
    assert.deepEqual(backend.skipped, []);
    const adapter = backend.adapter!;
    assert.equal(adapter.architecture, 'swiftshader');
    assert.match(adapter.description, /SwiftShader/);
    assert.equal(adapter.software, true);
    assert.equal(adapter.deviceMemoryBytes, null);
    assert.equal(tf.getBackend(), 'webgpu');
    // The device got the adapter's buffer limits rather than WebGPU's defaults (256 MiB, 128 MiB).
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    assert.equal(device.limits.maxBufferSize, adapter.maxBufferBytes);
    assert.equal(device.limits.maxStorageBufferBindingSize, adapter.maxStorageBindingBytes);
    assert.ok(adapter.maxBufferBytes > 256 * 2 ** 20, String(adapter.maxBufferBytes));
  });

  it('gives a memory planner the largest tensor each limit allows, and says device memory is unknown', () => {
    const facts = webgpuMemoryFacts({ maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27 });
    assert.equal(facts.largestTensorElements, 2 ** 25);
    assert.equal(facts.deviceMemoryBytes, null);
    assert.match(facts.deviceMemorySource, /not exposed/);
  });

  it('has our AddN installed once', () => {
    assert.deepEqual(registerWebgpuTrainingKernels(), []);
  });

  it('trains a run with the tensor count flat across epochs, and the summary names the backend and adapter', async (t) => {
    const project = await tinyProject(await tempDir(t), { count: 5, size: 16 });
    const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, preset: 'fast', settings: { ...TINY_SETTINGS, epochs: 3, backend: 'webgpu' } }));
    const counts: number[] = [];
    const summary = await train({ project, run, resume: false, signal: new AbortController().signal, onEpoch: (record) => counts.push(record.numTensors) });
    assert.equal(summary.state, 'completed');
    assert.equal(summary.backend?.name, 'webgpu');
    assert.equal(summary.backend?.adapter?.architecture, 'swiftshader');
    // The batch planner was told the adapter's bound, and that WebGPU gives no total to plan against.
    assert.equal(summary.batchPlan?.limitBytes, null);
    assert.match(summary.batchPlan?.reason ?? '', /WebGPU does not report SwiftShader.*no one tensor may pass 1\.0 GiB/);
    assert.equal(counts.length, 3);
    assert.ok(counts.every((count) => count === counts[0]), `tensors per epoch: ${counts.join(', ')}`);
  });

  it('refuses a synchronous read of GPU memory with a message saying what to do', () => {
    // Above tfjs's size for running small ops on the CPU (WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD).
    const onGpu = tf.tidy(() => tf.add(tf.ones([4096]), 1));
    assert.throws(() => onGpu.dataSync(), /cannot read GPU memory synchronously.*await tensor\.data\(\)/);
    onGpu.dispose();
  });

  // Last: the device stays failed once it has reported an error.
  it('fails the next read with the GPU\'s own message when a kernel fails (here: a tensor above maxBufferSize)', async () => {
    const { maxBufferBytes } = (await initialiseBackend('webgpu')).adapter!;
    // tf.fill runs on the GPU (tf.zeros would build the values on the CPU first).
    const tooLarge = tf.fill([maxBufferBytes / 4 + 1024], 1);
    const small = tf.add(tf.ones([4096]), 1);
    await assert.rejects(small.data(), /The GPU \(SwiftShader[^)]*\) reported an error, so the results are invalid: the GPU refused a kernel \(Buffer size \(\d+\) exceeds the max buffer size limit/);
    tf.dispose([tooLarge, small]);
  });
});

describe('the backend ladder with only a software WebGPU adapter', { skip: noSoftwareGpu }, () => {
  const ladder = async (choice: string, needs: object) => {
    const script = `
      const { initialiseBackend } = await import(${JSON.stringify(`${ROOT}/dist/app/engine/backend/select-backend.js`)});
      console.log(JSON.stringify(await initialiseBackend(${JSON.stringify(choice)}, ${JSON.stringify(needs)})));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, ...softwareGpuEnv() }, timeout: 120_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { name: string; skipped: { name: string; reason: string }[] };
  };

  it('auto passes over it with that reason, and a task that reads synchronously never tries webgpu', async () => {
    const auto = await ladder('auto', {});
    assert.equal(auto.name, 'wasm');
    assert.deepEqual(auto.skipped.map((entry) => entry.name), ['tfjs-node-gpu', 'webgpu', 'tfjs-node']);
    assert.match(auto.skipped[1]!.reason, /SwiftShader driver [\d.]+, is software .* choose webgpu explicitly/);
    const syncReads = await ladder('auto', { syncReads: true });
    assert.equal(syncReads.name, 'wasm');
    assert.match(syncReads.skipped[1]!.reason, /reads tensors synchronously/);
  });
});
