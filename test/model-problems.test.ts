import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { TrainRequest } from '../app/contract/training.js';
import { RunFolder } from '../app/engine/runs/run-store.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { train } from '../app/engine/training/trainer.js';
import { runTrainer } from '../app/engine/worker/trainer-host.js';
import { decodeOnnxModel, encodeOnnxModel, type OnnxModel } from '../app/export/onnx/onnx-schema.js';
import { importExternalModel } from '../app/inference/import-model.js';
import { loadModelSpec } from '../app/inference/model-files.js';
import { forkWorker, type WorkerChild } from '../app/jobs/worker-process.js';
import { IGNORE_LABEL } from '../app/contract/schemas.js';
import { Project } from '../app/project/project.js';
import { runCli } from './support/run-cli.js';
import { CELLS_MODEL } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';
import { TINY_SETTINGS, tinyProject } from './support/tiny-project.js';

const trainRequest = (project: string, settings: Record<string, unknown> = {}) => TrainRequest.parse({ project, preset: 'fast', settings: { ...TINY_SETTINGS, ...settings } });

/** The fixture U-Net saved the way `onnx.save(..., save_as_external_data=True)` does: weights in ext.bin beside it. */
async function withExternalData(dir: string): Promise<string> {
  const model = decodeOnnxModel(await fs.readFile(CELLS_MODEL));
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const tensor of model.graph.initializer) {
    if (!tensor.raw_data?.length) continue;
    chunks.push(Buffer.from(tensor.raw_data));
    tensor.external_data = [
      { key: 'location', value: 'ext.bin' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(tensor.raw_data.length) },
    ];
    tensor.data_location = 1;
    offset += tensor.raw_data.length;
    tensor.raw_data = new Uint8Array(0);
  }
  await fs.mkdir(path.join(dir, 'external'));
  await fs.writeFile(path.join(dir, 'external', 'ext.bin'), Buffer.concat(chunks));
  const file = path.join(dir, 'external', 'cells-ext.onnx');
  await fs.writeFile(file, encodeOnnxModel(model));
  return file;
}

/** A model whose input is fixed at 1x1 pixels (an Identity graph): it runs, but nothing can be segmented with it. */
function onePixelModel(): Uint8Array {
  const valueInfo = (name: string) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: [1, 1, 1, 1].map((size) => ({ dim_value: size })) } } } });
  const model: OnnxModel = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'test',
    producer_version: '1',
    graph: { name: 'one-pixel', node: [{ name: 'copy', op_type: 'Identity', input: ['image'], output: ['logits'], attribute: [] }], initializer: [], input: [valueInfo('image')], output: [valueInfo('logits')] },
    metadata_props: [],
  };
  return encodeOnnxModel(model);
}

test('import-model copies external weight files beside the model, and the imported model segments (issue 18.11)', async (t) => {
  const dir = await tempDir(t);
  const file = await withExternalData(dir);
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  await importExternalModel(project, file, { classes: ['cell'], normalisation: 'unit', name: 'ext' });
  assert.deepEqual(await fs.readFile(await project.resolve('models/ext.bin')), await fs.readFile(path.join(dir, 'external', 'ext.bin')));
  // The original folder can go: the project's copy is complete.
  await fs.rm(path.join(dir, 'external'), { recursive: true });
  const loaded = await loadModelSpec(`${project.root}:ext`);
  await loaded.session.release();
  assert.equal(loaded.description.outputChannels, 1);
});

test('import-model refuses a model with a 1x1 fixed input at import, with the reason (issue 18.11)', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'one-pixel.onnx');
  await fs.writeFile(file, onePixelModel());
  const project = path.join(dir, 'project');
  assert.equal((await runCli(['init', project, '--classes', 'cell'])).code, 0);
  const run = await runCli(['import-model', project, file, '--classes', 'cell', '--normalisation', 'unit']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /one-pixel\.onnx: its input is fixed at 1x1 pixels/);
  assert.deepEqual(await fs.readdir(path.join(project, 'models')), []);
});

test('--model project:name that matches nothing lists where it looked and the models there are (issue 18.12)', async (t) => {
  const dir = await tempDir(t);
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  await importExternalModel(project, CELLS_MODEL, { classes: ['cell'], normalisation: 'unit', name: 'torch' });
  await assert.rejects(loadModelSpec(`${project.root}:nothing`), (err: Error) => {
    assert.match(err.message, /has no model "nothing": looked for an imported model .*models\/nothing\.onnx and a training run .*runs\/nothing\/run\.json/);
    assert.match(err.message, /Its models: torch \(imported\)/);
    return true;
  });
});

test('a killed trainer leaves its run marked failed with the reason, not "running" (issue 18.13)', async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 8 });
  const { run } = await prepareRun(project, trainRequest(project.root, { epochs: 3, batchSize: 2 }));
  let trainer: WorkerChild | undefined;
  const killed = runTrainer((module) => (trainer = forkWorker(module)), { project: project.root, runId: run.id, resume: false }, {
    signal: new AbortController().signal,
    onStep: () => trainer!.kill(),
  });
  await assert.rejects(killed, /killed \(SIGKILL\)/);
  const summary = (await RunFolder.open(project, run.id)).summary;
  assert.equal(summary.state, 'failed');
  assert.match(summary.error ?? '', /trainer process was killed \(SIGKILL\)/);
});

test('validation masks that are all "ignore" give no Dice (not 1.0000) and say so (issue 18.13)', async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 6 });
  const validationIds = project.images.slice(0, 2).map((image) => image.id);
  await project.updateImages(validationIds, () => ({ split: 'val' }));
  for (const id of validationIds) {
    const image = project.image(id);
    await project.writeMask(id, { width: image.width, height: image.height, labels: new Uint8Array(image.width * image.height).fill(IGNORE_LABEL) });
  }
  const { run } = await prepareRun(project, trainRequest(project.root, { epochs: 1, validationPercent: 0 }));
  const records: { valDice: number | null }[] = [];
  const summary = await train({ project, run, resume: false, signal: new AbortController().signal, onEpoch: (record) => records.push(record) });
  assert.equal(summary.valImages, 2);
  assert.equal(records[0]!.valDice, null);
  assert.equal(summary.bestValDice, null);

  const cli = await runCli(['train', project.root, '--epochs', '1', '--batch-size', '4', '--scale', '1', '--validation', '0']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /no labelled pixels in the validation images/);
  assert.doesNotMatch(cli.stdout, /Dice 1\.0000/);
});
