import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { ModelExportResult } from '../app/contract/model-export.js';
import { TrainRequest } from '../app/contract/training.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { prepareImage } from '../app/engine/data/load-samples.js';
import { loadLayersModel } from '../app/engine/model/model-files.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { train } from '../app/engine/training/trainer.js';
import { exportModel } from '../app/export/export-model.js';
import type { ModelCard } from '../app/export/model-card.js';
import { layersModelToOnnx, ONNX_OPSET } from '../app/export/onnx/layers-to-onnx.js';
import { decodeOnnxModel, encodeOnnxModel } from '../app/export/onnx/onnx-schema.js';
import { NORMALISATION_RULE } from '../app/imaging/normalise.js';
import { readRaster } from '../app/imaging/read-image.js';
import type { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import { parseJson, runCli } from './support/run-cli.js';
import { randomiseWeights, runWithRandomModel } from './support/random-model.js';
import { tempDir } from './support/temp-dir.js';
import { TINY_SETTINGS, tinyProject } from './support/tiny-project.js';

const TOLERANCE = 1e-4;
const PACKAGE_VERSION = (JSON.parse(await fs.readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

before(async () => {
  await initialiseBackend('wasm');
});

/** NHWC intensities -> ONNX logits and probabilities, compared with the tfjs model's NHWC logits. */
/**
 * The ONNX model's outputs against the tfjs model's, computed on tfjs's plain cpu kernels: the
 * wasm backend's Winograd convolutions round differently (about 1e-5 of the values), which would
 * blur what this measures, the fidelity of the export.
 */
async function compare(session: ort.InferenceSession, model: tf.LayersModel, input: Float32Array, shape: [number, number, number, number]) {
  const [n, h, w, c] = shape;
  const backend = tf.getBackend();
  await tf.setBackend('cpu');
  const { expected, expectedShape, nchw, probabilities } = tf.tidy(() => {
    const x = tf.tensor4d(input, shape);
    const logits = (model.predict(x) as tf.Tensor4D).transpose([0, 3, 1, 2]);
    const activated = logits.shape[1] === 1 ? tf.sigmoid(logits) : tf.softmax(logits.transpose([0, 2, 3, 1])).transpose([0, 3, 1, 2]);
    return { expected: logits.dataSync(), expectedShape: logits.shape, nchw: x.transpose([0, 3, 1, 2]).dataSync(), probabilities: activated.dataSync() };
  });
  await tf.setBackend(backend);
  const out = await session.run({ image: new ort.Tensor('float32', nchw as Float32Array, [n, c, h, w]) });
  assert.deepEqual(out.logits!.dims, expectedShape);
  return {
    logits: maxAbsDifference(expected, out.logits!.data as Float32Array),
    probabilities: out.probabilities ? maxAbsDifference(probabilities, out.probabilities.data as Float32Array) : null,
    scale: Math.max(...Array.from(expected, Math.abs)),
  };
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** A project image prepared exactly as for training, placed top-left in a zero-padded canvas. */
async function realImage(project: Project, channels: 1 | 3, height: number, width: number): Promise<Float32Array> {
  const raster = await readRaster(await project.resolve(project.images[0]!.file), { maxPixels: 1e8 });
  const prepared = prepareImage(raster, channels, { mode: 'scale', scale: 1 });
  const canvas = new Float32Array(height * width * channels);
  for (let y = 0; y < Math.min(prepared.height, height); y++) {
    canvas.set(prepared.image.subarray(y * prepared.width * channels, (y * prepared.width + Math.min(prepared.width, width)) * channels), y * width * channels);
  }
  return canvas;
}

function randomInput(shape: number[], seed: number): Float32Array {
  return tf.tidy(() => tf.randomUniform(shape, 0, 1, 'float32', seed).dataSync() as Float32Array);
}

test('ONNX export matches the tfjs model (transposed and bilinear, 1 and 3 channels, binary and 3 classes, two input sizes)', async (t) => {
  const dir = await tempDir(t);
  const projects = { 2: await tinyProject(path.join(dir, 'binary'), { count: 4 }), 3: await tinyProject(path.join(dir, 'three'), { count: 4, classes: 3 }) };
  let seed = 1;
  for (const upsampling of ['transpose', 'bilinear'] as const) {
    for (const inputChannels of [1, 3] as const) {
      for (const classes of [2, 3] as const) {
        const project = projects[classes];
        const { run, network } = await runWithRandomModel(project, { base: 8, upsampling, inputChannels }, seed++);
        const out = path.join(dir, 'exports', `${upsampling}-${inputChannels}-${classes}.onnx`);
        const result = await exportModel(project, { runId: run.id, format: 'onnx', out, probabilities: true });
        assert.deepEqual(result.files, [out, out.replace(/\.onnx$/, '.md'), out.replace(/\.onnx$/, '.json')]);
        const session = await ort.InferenceSession.create(out);
        const label = `${upsampling}, ${inputChannels} channel(s), ${classes} classes`;
        const inputs: [Float32Array, [number, number, number, number]][] = [
          [randomInput([2, 32, 48, inputChannels], seed), [2, 32, 48, inputChannels]],
          [randomInput([1, 64, 16, inputChannels], seed + 100), [1, 64, 16, inputChannels]],
          [await realImage(project, inputChannels, 48, 32), [1, 48, 32, inputChannels]],
        ];
        for (const [input, shape] of inputs) {
          const difference = await compare(session, network, input, shape);
          assert.ok(difference.scale > 0.01, `${label}: the logits are not all near zero (${difference.scale})`);
          assert.ok(difference.logits <= TOLERANCE, `${label} at ${shape.join('x')}: logits differ by ${difference.logits}`);
          assert.ok(difference.probabilities! <= TOLERANCE, `${label} at ${shape.join('x')}: probabilities differ by ${difference.probabilities}`);
        }
        await session.release();
        network.dispose();
      }
    }
  }
});

test('the ONNX file: opset, dynamic NCHW input, folded batch norm, only the expected ops, metadata and model card', async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(path.join(dir, 'p'), { count: 4, classes: 3 });
  const { run, network } = await runWithRandomModel(project, { base: 8, upsampling: 'bilinear', inputChannels: 1 }, 7);
  network.dispose();
  const out = path.join(dir, 'cells');
  const result = await exportModel(project, { format: 'onnx', out, probabilities: true });
  assert.equal(result.runId, run.id);
  assert.equal(result.files[0], `${out}.onnx`);
  const model = decodeOnnxModel(await fs.readFile(`${out}.onnx`));

  assert.ok(model.opset_import.some((entry) => entry.domain === '' && entry.version >= 13));
  assert.equal(model.producer_name, 'U-Net Studio');
  assert.equal(model.producer_version, PACKAGE_VERSION);
  const ops = new Set(model.graph.node.map((node) => node.op_type));
  assert.deepEqual([...ops].sort(), ['Concat', 'Conv', 'MaxPool', 'Relu', 'Resize', 'Softmax']);
  assert.ok(!ops.has('BatchNormalization'));
  const resize = model.graph.node.find((node) => node.op_type === 'Resize')!;
  const text = (name: string) => new TextDecoder().decode(resize.attribute.find((entry) => entry.name === name)!.s);
  assert.equal(text('coordinate_transformation_mode'), 'asymmetric');
  assert.equal(text('mode'), 'linear');
  assert.deepEqual(model.graph.input.map((input) => [input.name, input.type.tensor_type.shape.dim]), [
    ['image', [{ dim_param: 'batch' }, { dim_value: 1 }, { dim_param: 'height' }, { dim_param: 'width' }]],
  ]);
  assert.deepEqual(model.graph.output.map((output) => output.name), ['logits', 'probabilities']);
  assert.deepEqual(model.graph.output[0]!.type.tensor_type.shape.dim[1], { dim_value: 3 });

  const metadata = Object.fromEntries(model.metadata_props.map(({ key, value }) => [key, value]));
  assert.deepEqual(JSON.parse(metadata.classes!), [
    { id: 0, name: 'background', colour: project.classes[0]!.color },
    { id: 1, name: 'cytoplasm', colour: project.classes[1]!.color },
    { id: 2, name: 'nucleus', colour: project.classes[2]!.color },
  ]);
  assert.equal(metadata.input_channels, '1');
  assert.equal(metadata.normalisation, NORMALISATION_RULE);
  assert.deepEqual(JSON.parse(metadata.sizing!), { mode: 'scale', scale: 1 });
  assert.equal(metadata.best_epoch, '2');
  assert.equal(metadata.val_dice, '0.625');
  assert.equal(metadata.app_version, PACKAGE_VERSION);
  assert.equal(metadata.run_id, run.id);

  const card = JSON.parse(await fs.readFile(`${out}.json`, 'utf8')) as ModelCard;
  assert.deepEqual(card.files, ['cells.onnx']);
  assert.equal(card.metrics.bestEpoch, 2);
  assert.equal(card.input.normalisation, NORMALISATION_RULE);
  assert.equal(card.output.activation, 'softmax');
  const markdown = await fs.readFile(`${out}.md`, 'utf8');
  for (const expected of ['# cells', 'nucleus', project.classes[2]!.color, 'import onnxruntime as ort', "import * as ort from 'onnxruntime-node'", 'InferenceSession', NORMALISATION_RULE, '0.6250', '## Limitations']) {
    assert.ok(markdown.includes(expected), `model card lacks ${expected}`);
  }

  // Without probabilities: logits only, and the output shape decoded by onnxruntime.
  await exportModel(project, { format: 'onnx', out: path.join(dir, 'logits-only.onnx'), probabilities: false });
  const session = await ort.InferenceSession.create(path.join(dir, 'logits-only.onnx'));
  assert.deepEqual(session.outputNames, ['logits']);
  assert.deepEqual(session.inputNames, ['image']);
  await session.release();
});

test('TF.js export loads with tf.loadLayersModel and gives the same outputs; its model card sits beside it', async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(path.join(dir, 'p'), { count: 4 });
  const { network } = await runWithRandomModel(project, { base: 8, upsampling: 'transpose', inputChannels: 3 }, 11);
  const out = path.join(dir, 'tfjs-model');
  const result = await exportModel(project, { format: 'tfjs', out, probabilities: true });
  assert.deepEqual(result.files.map((file) => path.relative(out, file)), ['model.json', 'weights.bin', 'model-card.md', 'model-card.json']);
  const loaded = await loadLayersModel(out);
  const input = tf.tensor4d(await realImage(project, 3, 32, 48), [1, 32, 48, 3]);
  const [expected, actual] = [network, loaded.model].map((model) => tf.tidy(() => (model.predict(input) as tf.Tensor).dataSync()));
  assert.deepEqual(actual, expected);
  assert.equal((loaded.metadata.unetStudio as { epoch: number }).epoch, 2);
  const card = JSON.parse(await fs.readFile(path.join(out, 'model-card.json'), 'utf8')) as ModelCard;
  assert.deepEqual(card.files, ['model.json', 'weights.bin']);
  assert.equal(card.input.layout, 'NHWC');
  assert.match(await fs.readFile(path.join(out, 'model-card.md'), 'utf8'), /tf\.loadLayersModel/);
  input.dispose();
  network.dispose();
  loaded.model.dispose();
});

test('other layer settings convert exactly: strided and even-kernel same padding, valid padding, transposed same/valid, nearest up-sampling, activations', async (t) => {
  const dir = await tempDir(t);
  const x = tf.input({ shape: [null, null, 2] });
  const apply = (layer: tf.layers.Layer, input: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(input) as tf.SymbolicTensor;
  const strided = apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }), x);
  const pooled = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }), strided);
  const even = apply(tf.layers.conv2d({ filters: 4, kernelSize: 2, padding: 'same' }), pooled);
  const normed = apply(tf.layers.batchNormalization({ epsilon: 1e-3 }), even);
  const transposed = apply(tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }), normed);
  const nearest = apply(tf.layers.upSampling2d({ size: [2, 2] }), normed);
  const merged = apply(tf.layers.concatenate(), [transposed, nearest]);
  const widened = apply(tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'valid' }), merged);
  const narrowed = apply(tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'valid' }), widened);
  const model = tf.model({ inputs: x, outputs: apply(tf.layers.activation({ activation: 'tanh' }), narrowed) });
  randomiseWeights(model, 3);
  const onnx = layersModelToOnnx(model, { probabilities: true, graphName: 'mixed', producerVersion: PACKAGE_VERSION, docString: '', metadata: {} });
  assert.equal(onnx.opset_import[0]!.version, ONNX_OPSET);
  assert.ok(!onnx.graph.node.some((node) => node.op_type === 'BatchNormalization'));
  const file = path.join(dir, 'mixed.onnx');
  await fs.writeFile(file, encodeOnnxModel(onnx));
  const session = await ort.InferenceSession.create(file);
  for (const shape of [[1, 8, 12, 2], [2, 16, 4, 2]] as [number, number, number, number][]) {
    const difference = await compare(session, model, randomInput(shape, 5), shape);
    assert.ok(difference.logits <= TOLERANCE, `at ${shape.join('x')}: outputs differ by ${difference.logits}`);
  }
  await session.release();
  model.dispose();
});

test('unsupported layers and unfoldable batch norm are refused by name', () => {
  const x = tf.input({ shape: [null, null, 1] });
  const leaky = tf.model({ inputs: x, outputs: tf.layers.leakyReLU({ name: 'leaky' }).apply(tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(x)) as tf.SymbolicTensor });
  const options = { probabilities: false, graphName: 'g', producerVersion: PACKAGE_VERSION, docString: '', metadata: {} };
  assert.throws(() => layersModelToOnnx(leaky, options), /Cannot export layer "leaky" \(LeakyReLU\) to ONNX: this layer type is not supported \(supported: InputLayer, Conv2D/);
  const y = tf.input({ shape: [null, null, 1] });
  const normFirst = tf.model({ inputs: y, outputs: tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(tf.layers.batchNormalization({ name: 'norm' }).apply(y)) as tf.SymbolicTensor });
  assert.throws(() => layersModelToOnnx(normFirst, options), /"norm" \(BatchNormalization\).*only directly after a convolution/);
  leaky.dispose();
  normFirst.dispose();
});

test('a trained model exports through the CLI and the contract; runs without a model are refused', async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(path.join(dir, 'p'), { count: 8 });
  const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, model: { base: 8 }, settings: { ...TINY_SETTINGS, epochs: 1 } }));
  const summary = await train({ project, run, resume: false, signal: new AbortController().signal });
  assert.equal(summary.state, 'completed');
  // A newer run that never finished an epoch: the default must skip it, naming it must be refused.
  const { run: empty } = await prepareRun(project, TrainRequest.parse({ project: project.root, settings: TINY_SETTINGS }));

  const onnxFile = path.join(dir, 'out', 'trained.onnx');
  const cli = await runCli(['export', project.root, '--format', 'onnx', '--out', onnxFile, '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const result = parseJson<{ runId: string; files: string[]; bestEpoch: number }>(cli);
  assert.equal(result.runId, run.id);
  assert.equal(result.bestEpoch, 1);
  assert.equal(result.files[0], onnxFile);
  const { model } = await loadLayersModel(run.modelDir);
  const session = await ort.InferenceSession.create(onnxFile);
  const difference = await compare(session, model, await realImage(project, 1, 32, 32), [1, 32, 32, 1]);
  assert.ok(difference.logits <= TOLERANCE, `trained model: logits differ by ${difference.logits}`);
  await session.release();
  model.dispose();

  const tfjs = await runCli(['export', project.root, '--run', run.id, '--format', 'tfjs', '--out', path.join(dir, 'web')]);
  assert.equal(tfjs.code, 0, tfjs.stderr);
  assert.match(tfjs.stdout, /Exported run .* as TF\.js/);
  await fs.access(path.join(dir, 'web', 'weights.bin'));

  const refused = await runCli(['export', project.root, '--run', empty.id, '--format', 'onnx', '--out', onnxFile]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`Run ${empty.id} has no trained model yet`));
  const unknown = await runCli(['export', project.root, '--run', 'nope', '--format', 'tfjs', '--out', path.join(dir, 'nope')]);
  assert.match(unknown.stderr, /has no run "nope"/);
  const usage = await runCli(['export', project.root, '--out', onnxFile]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--format onnx, --format tfjs, --format bioimageio, --format triton/);

  const services = createAppServices({ browseHome: dir });
  const signal = new AbortController().signal;
  const viaContract = await services.registry.dispatch('model.export', { project: project.root, format: 'onnx', out: path.join(dir, 'contract') }, { signal });
  assert.ok(viaContract.ok, JSON.stringify(viaContract));
  const exported = ModelExportResult.parse(viaContract.value);
  assert.equal(exported.runId, run.id);
  assert.deepEqual(exported.files.map((file) => path.basename(file)), ['contract.onnx', 'contract.md', 'contract.json']);
  const intoFolder = await services.registry.dispatch('model.export', { project: project.root, format: 'onnx', out: `${path.join(dir, 'folder')}${path.sep}` }, { signal });
  assert.equal(intoFolder.ok && ModelExportResult.parse(intoFolder.value).files[0], path.join(dir, 'folder', 'project.onnx'));
  const bad = await services.registry.dispatch('model.export', { project: project.root, format: 'pt', out: dir }, { signal });
  assert.equal(!bad.ok && bad.error.code, 'invalid_input');
  await services.close();
});
