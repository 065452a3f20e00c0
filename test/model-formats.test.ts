import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import yaml from 'js-yaml';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import sharp from 'sharp';
import yauzl from 'yauzl';
import { ImportRequest } from '../app/contract/schemas.js';
import { TrainRequest } from '../app/contract/training.js';
import { importImages } from '../app/dataset/import-images.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { train } from '../app/engine/training/trainer.js';
import { applyProcessing, type ProcessingStep } from '../app/export/bioimageio/processing.js';
import { exportModel } from '../app/export/export-model.js';
import { decodeOnnxModel } from '../app/export/onnx/onnx-schema.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { Project } from '../app/project/project.js';
import { decodeNpy } from './support/npy.js';
import { readProtoText } from './support/proto-text-reader.js';
import { runWithRandomModel } from './support/random-model.js';
import { parseJson, runCli } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';
import { TINY_SETTINGS, tinyProject } from './support/tiny-project.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const SCHEMA = JSON.parse(await fs.readFile(path.join(FIXTURES, 'bioimageio', 'bioimageio_schema.json'), 'utf8')) as object;
// keepCase: the field names as the .proto spells them (snake_case), as config.pbtxt uses them.
const MODEL_CONFIG = protobuf.parse(await fs.readFile(path.join(FIXTURES, 'triton', 'model_config.proto'), 'utf8'), { keepCase: true }).root.lookupType('inference.ModelConfig');

before(async () => {
  await initialiseBackend('wasm');
});

/** The bioimage.io schema compiled with ajv. Its `discriminator` annotations are OpenAPI's, which ajv need not know (strict off); formats are checked here. */
function bioimageioValidator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('uri', /^https?:\/\/\S+$/);
  ajv.addFormat('date-time', (value: string) => !Number.isNaN(Date.parse(value)) && /T/.test(value));
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('email', /^[^@\s]+@[^@\s]+$/);
  ajv.addFormat('file-path', /\S/);
  ajv.addFormat('path', /\S/);
  return ajv.compile(SCHEMA);
}

/** Every file of a .zip, read back with yauzl (an independent reader of what yazl wrote). */
async function unzip(file: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  const files = new Map<string, Buffer>();
  try {
    for await (const entry of zip.eachEntry()) {
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      files.set(entry.fileName, Buffer.concat(chunks));
    }
  } finally {
    zip.close();
  }
  return files;
}

interface TensorDescription {
  id: string;
  axes: { type: string; id?: string; channel_names?: string[]; size?: number | { min: number; step: number } | { tensor_id: string; axis_id: string } }[];
  test_tensor: { source: string; sha256: string };
  sample_tensor?: { source: string; sha256: string };
  data: { type: string; range: [number, number] };
  preprocessing?: ProcessingStep[];
}

interface Description {
  name: string;
  format_version: string;
  documentation: string;
  covers: string[];
  inputs: TensorDescription[];
  outputs: TensorDescription[];
  weights: { onnx: { source: string; sha256: string; opset_version: number } };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NPY_TYPES: Record<string, string> = { uint8: '|u1', uint16: '<u2', float32: '<f4' };

/**
 * Checks a bioimage.io package as the specification asks: the JSON schema, then the rules it keeps in
 * Python validators (name characters, identifiers, files and hashes, test tensors fitting the axes and
 * data types, a Validation section), then recomputes the test output from the test input with the
 * declared preprocessing and the ONNX weights, within the specification's default tolerance
 * (|output - expected| <= 1e-3 + 1e-3 |expected|). Returns the description and the test tensors.
 */
async function checkPackage(zipFile: string) {
  const files = await unzip(zipFile);
  const description = yaml.load(files.get('rdf.yaml')!.toString('utf8')) as Description;
  const validate = bioimageioValidator();
  assert.ok(validate(description), `schema errors: ${JSON.stringify(validate.errors, null, 1)}`);
  // The compiled schema does refuse what the specification does not allow.
  assert.ok(!validate({ ...description, inputs: [{ ...description.inputs[0], axes: [{ type: 'spaec' }] }] }), 'an unknown axis type is refused');
  assert.ok(!validate({ ...description, weights: { onnx: { source: 'model.onnx' } } }), 'ONNX weights without opset_version are refused');
  assert.equal(description.format_version, '0.5.7');

  assert.match(description.name, /^[A-Za-z0-9_+\- ()]{5,64}$/);
  const file = (source: string, sha256?: string) => {
    const data = files.get(source);
    assert.ok(data, `${source} is in the package`);
    if (sha256) assert.equal(createHash('sha256').update(data).digest('hex'), sha256, `${source}: sha256`);
    return data;
  };
  assert.match(file(description.documentation).toString('utf8'), /#.*[vV]alidation/, 'the documentation has a Validation section');
  for (const cover of description.covers) {
    const { width, height, format } = await sharp(file(cover)).metadata();
    assert.equal(format, 'png');
    assert.ok(width === height || width === 2 * height, `cover ${width}x${height} is 1:1 or 2:1`);
  }
  const ids = [...description.inputs, ...description.outputs].map((tensor) => tensor.id);
  assert.equal(new Set(ids).size, ids.length, 'tensor ids are unique');
  const tensors = new Map<string, { data: ArrayLike<number>; shape: number[] }>();
  for (const tensor of [...description.inputs, ...description.outputs]) {
    assert.ok(IDENTIFIER.test(tensor.id) && tensor.id === tensor.id.toLowerCase() && tensor.id.length <= 32, `tensor id ${tensor.id}`);
    const npy = decodeNpy(file(tensor.test_tensor.source, tensor.test_tensor.sha256));
    assert.equal(npy.descr, NPY_TYPES[tensor.data.type], `${tensor.id}: test tensor type matches data.type`);
    assert.equal(npy.shape.length, tensor.axes.length);
    tensor.axes.forEach((axis, index) => {
      const size = npy.shape[index]!;
      if (axis.type === 'channel') {
        assert.equal(size, axis.channel_names!.length);
        for (const name of axis.channel_names!) assert.match(name, IDENTIFIER);
      } else if (typeof axis.size === 'object' && 'min' in axis.size) {
        assert.ok(size >= axis.size.min && (size - axis.size.min) % axis.size.step === 0, `${tensor.id}.${axis.id}: ${size} = min + n * step`);
      } else if (typeof axis.size === 'object' && 'tensor_id' in axis.size) {
        const reference = description.inputs.find((input) => input.id === (axis.size as { tensor_id: string }).tensor_id)!;
        const referenceIndex = reference.axes.findIndex((entry) => entry.id === (axis.size as { axis_id: string }).axis_id);
        assert.equal(size, tensors.get(reference.id)!.shape[referenceIndex], `${tensor.id}.${axis.id} has its reference's size`);
      }
    });
    for (let i = 0; i < npy.data.length; i++) assert.ok(npy.data[i]! >= tensor.data.range[0] && npy.data[i]! <= tensor.data.range[1], `${tensor.id}: values within data.range`);
    tensors.set(tensor.id, npy);
    if (tensor.sample_tensor) file(tensor.sample_tensor.source, tensor.sample_tensor.sha256);
  }

  const input = description.inputs[0]!;
  const output = description.outputs[0]!;
  const testInput = tensors.get(input.id)!;
  const expected = tensors.get(output.id)!;
  const weights = file(description.weights.onnx.source, description.weights.onnx.sha256);
  assert.equal(decodeOnnxModel(weights).opset_import[0]!.version, description.weights.onnx.opset_version);
  const session = await ort.InferenceSession.create(weights);
  const prepared = applyProcessing(input.preprocessing!, testInput.data, testInput.shape as [number, number, number, number]);
  const result = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', prepared, testInput.shape) });
  await session.release();
  const actual = result[session.outputNames[0]!]!;
  assert.deepEqual(actual.dims, expected.shape);
  let mismatched = 0;
  let worst = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const difference = Math.abs((actual.data as Float32Array)[i]! - expected.data[i]!);
    worst = Math.max(worst, difference);
    if (difference > 1e-3 + 1e-3 * Math.abs(expected.data[i]!)) mismatched += 1;
  }
  assert.equal(mismatched, 0, `test output reproduced within 1e-3 (largest difference ${worst})`);
  return { description, files, testInput, expected };
}

test('bioimage.io: a trained project exports a package that passes the published JSON schema, and its test tensors reproduce with onnxruntime-node within 1e-3 and match segment', async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(path.join(dir, 'p'), { count: 8, size: 48 });
  const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, model: { base: 8 }, settings: { ...TINY_SETTINGS, epochs: 1 } }));
  assert.equal((await train({ project, run, resume: false, signal: new AbortController().signal })).state, 'completed');

  const zipFile = path.join(dir, 'out', 'cells.zip');
  const cli = await runCli(['export', project.root, '--format', 'bioimageio', '--out', zipFile, '--author', 'Ada Lovelace', '--license', 'MIT', '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const result = parseJson<{ files: string[] }>(cli);
  assert.deepEqual(result.files.map((entry) => path.basename(entry)), ['cells.zip', 'cells.md', 'cells.json']);
  const { description, files, testInput, expected } = await checkPackage(zipFile);
  assert.deepEqual([...files.keys()].sort(), ['README.md', 'cover.png', 'model.onnx', 'rdf.yaml', 'sample_input.png', 'test_input.npy', 'test_output.npy']);
  const raw = yaml.load(files.get('rdf.yaml')!.toString('utf8')) as Record<string, unknown>;
  assert.deepEqual(raw.authors, [{ name: 'Ada Lovelace' }]);
  assert.equal(raw.license, 'MIT');
  assert.deepEqual(description.inputs[0]!.preprocessing!.map((step) => step.id), ['ensure_dtype', 'scale_linear', 'ensure_dtype']);
  assert.deepEqual(description.inputs[0]!.axes.map((axis) => axis.size ?? axis.channel_names), [undefined, ['grey'], { min: 16, step: 16 }, { min: 16, step: 16 }]);
  assert.deepEqual(description.outputs[0]!.axes[1]!.channel_names, ['cell']);
  assert.deepEqual(testInput.shape, [1, 1, 48, 48]);

  // The test output is what `segment` computes on the sample image: same mask on >= 99.9% of pixels.
  await fs.writeFile(path.join(dir, 'sample.png'), files.get('sample_input.png')!);
  const segmented = await runCli(['segment', '--model', project.root, '--input', path.join(dir, 'sample.png'), '--output', path.join(dir, 'segmented')]);
  assert.equal(segmented.code, 0, segmented.stderr);
  const labels = await readMaskPng(path.join(dir, 'segmented', 'sample_labels.png'));
  let agree = 0;
  for (let p = 0; p < labels.labels.length; p++) agree += labels.labels[p] === (expected.data[p]! > 0.5 ? 1 : 0) ? 1 : 0;
  assert.ok(agree / labels.labels.length >= 0.999, `segment and the test output agree on ${agree} of ${labels.labels.length} pixels`);

  const refused = await runCli(['export', project.root, '--format', 'onnx', '--out', path.join(dir, 'x.onnx'), '--author', 'Ada']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--author and --license apply to --format bioimageio only/);
  const badLicense = await runCli(['export', project.root, '--format', 'bioimageio', '--out', zipFile, '--license', 'my licence']);
  assert.match(badLicense.stderr, /--license: an SPDX licence identifier/);
});

test('bioimage.io: 16-bit RGB images and three classes give uint16 input, scale_range preprocessing and one softmax channel per class', async (t) => {
  const dir = await tempDir(t);
  const images = path.join(dir, 'images');
  const masks = path.join(dir, 'masks');
  await fs.mkdir(images);
  await fs.mkdir(masks);
  for (let index = 0; index < 3; index++) {
    const [width, height] = [52, 40];
    const pixels = Uint16Array.from({ length: width * height * 3 }, (_, i) => 1000 + ((i * 7919 + index * 104729) % 40000));
    // sharp takes the sample type from the typed array (16-bit here).
    await sharp(pixels, { raw: { width, height, channels: 3 } }).toColourspace('rgb16').png().toFile(path.join(images, `img${index}.png`));
    const labels = Uint8Array.from({ length: width * height }, (_, i) => (i % width < 17 ? 0 : i % width < 34 ? 1 : 2));
    await sharp(Buffer.from(labels), { raw: { width, height, channels: 1 } }).png().toFile(path.join(masks, `img${index}.png`));
  }
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cyto plasm', 'class'] });
  await importImages(project, ImportRequest.parse({ project: project.root, images: [images], masks, maskMode: 'indexed' }));
  assert.equal(project.images.filter((image) => image.bitDepth === 16 && image.mask).length, 3);
  (await runWithRandomModel(project, { base: 8, upsampling: 'transpose', inputChannels: 3 }, 5)).network.dispose();

  const result = await exportModel(project, { format: 'bioimageio', out: `${dir}${path.sep}`, probabilities: true });
  assert.equal(path.basename(result.files[0]!), 'project.zip');
  const { description, testInput, expected } = await checkPackage(result.files[0]!);
  const input = description.inputs[0]!;
  assert.equal(input.data.type, 'uint16');
  assert.deepEqual(input.preprocessing!.map((step) => step.id), ['ensure_dtype', 'scale_range', 'clip', 'ensure_dtype']);
  assert.deepEqual(input.axes[1]!.channel_names, ['red', 'green', 'blue']);
  // Class names become identifiers: spaces to '_', Python keywords get a trailing '_'.
  assert.deepEqual(description.outputs[0]!.axes[1]!.channel_names, ['background', 'cyto_plasm', 'class_']);
  assert.deepEqual(testInput.shape, [1, 3, 32, 32]);
  assert.deepEqual(expected.shape, [1, 3, 32, 32]);
  // Softmax: the three channels sum to 1 at every pixel.
  for (let p = 0; p < 32 * 32; p++) assert.ok(Math.abs(expected.data[p]! + expected.data[1024 + p]! + expected.data[2048 + p]! - 1) < 1e-5);
});

test('Triton: export makes repo/<name>/config.pbtxt and repo/<name>/1/model.onnx, and the config matches the graph (read against model_config.proto)', async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(path.join(dir, 'my cells'), { count: 4, classes: 3 });
  (await runWithRandomModel(project, { base: 8, upsampling: 'bilinear', inputChannels: 1 }, 3)).network.dispose();
  const repository = path.join(dir, 'repo');
  const cli = await runCli(['export', project.root, '--format', 'triton', '--out', repository, '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const name = 'project';
  assert.deepEqual(
    parseJson<{ files: string[] }>(cli).files.map((file) => path.relative(repository, file)),
    [`${name}/config.pbtxt`, `${name}/1/model.onnx`, `${name}/model-card.md`, `${name}/model-card.json`],
  );
  const text = await fs.readFile(path.join(repository, name, 'config.pbtxt'), 'utf8');
  const message = MODEL_CONFIG.fromObject(readProtoText(text, MODEL_CONFIG));
  assert.equal(MODEL_CONFIG.verify(message), null);
  const config = MODEL_CONFIG.toObject(message, { enums: String, longs: Number, defaults: false }) as {
    name: string;
    backend: string;
    max_batch_size: number;
    input: { name: string; data_type: string; dims: number[] }[];
    output: { name: string; data_type: string; dims: number[] }[];
    dynamic_batching?: object;
  };
  assert.equal(config.name, name, 'the model name is its folder name');
  assert.equal(config.backend, 'onnxruntime');
  assert.ok(config.max_batch_size > 0);
  assert.ok(config.dynamic_batching);

  const onnxFile = path.join(repository, name, '1', 'model.onnx');
  const graph = decodeOnnxModel(await fs.readFile(onnxFile)).graph;
  const expected = (values: typeof graph.input) =>
    values.map((value) => ({
      name: value.name,
      data_type: value.type.tensor_type.elem_type === 1 ? 'TYPE_FP32' : `elem_type ${value.type.tensor_type.elem_type}`,
      // The batch dimension is implied by max_batch_size; dynamic sizes are -1.
      dims: value.type.tensor_type.shape.dim.slice(1).map((dim) => (dim.dim_value !== undefined && dim.dim_value !== null ? Number(dim.dim_value) : -1)),
    }));
  assert.deepEqual(config.input, expected(graph.input));
  assert.deepEqual(config.output, expected(graph.output));
  assert.deepEqual(config.input, [{ name: 'image', data_type: 'TYPE_FP32', dims: [1, -1, -1] }]);
  assert.deepEqual(config.output.map((output) => [output.name, output.dims]), [['logits', [3, -1, -1]], ['probabilities', [3, -1, -1]]]);

  // -1 means any size: the model runs at two sizes and a batch of config.max_batch_size.
  const session = await ort.InferenceSession.create(onnxFile);
  for (const [batch, height, width] of [[1, 32, 48], [config.max_batch_size, 16, 16]] as const) {
    const out = await session.run({ image: new ort.Tensor('float32', new Float32Array(batch * height * width), [batch, 1, height, width]) });
    assert.deepEqual(out.probabilities!.dims, [batch, 3, height, width]);
  }
  await session.release();

  // The reader is strict: a misspelt field or a wrong enum value is an error, so the check above means something.
  assert.throws(() => readProtoText(text.replace('max_batch_size', 'max_batch'), MODEL_CONFIG), /has no field "max_batch"/);
  assert.throws(() => readProtoText(text.replace('TYPE_FP32', 'TYPE_FLOAT32'), MODEL_CONFIG), /not a value of DataType/);
});
