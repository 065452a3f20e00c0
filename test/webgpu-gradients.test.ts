// Gradient parity on webgpu (tfjs-backend-webgpu on Dawn, here on SwiftShader) against tfjs's cpu
// backend: every kernel a U-Net training step and its validation use, each in a small case of the
// shapes the U-Net gives it, then one whole training step. The last test checks that the cases
// cover every kernel that training actually runs, for every model, loss and optimiser we offer.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { ClassDef } from '../app/contract/schemas.js';
import { type ModelConfig, TrainConfig, type TrainSettings } from '../app/contract/training.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { assembleBatch } from '../app/engine/data/batch.js';
import { type SampleFile, sampleFiles } from '../app/engine/data/load-samples.js';
import type { TrainingSample } from '../app/engine/data/training-sample.js';
import { batchNormInTraining } from '../app/engine/model/batch-norm-in-training.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { PRESETS } from '../app/engine/model/presets.js';
import { segmentationLoss } from '../app/engine/training/loss.js';
import { createOptimizer } from '../app/engine/training/optimizer.js';
import { batchTensors, trainableVariables } from '../app/engine/training/batch-gradients.js';
import { clipByGlobalNorm, trainStep } from '../app/engine/training/train-step.js';
import { validate } from '../app/engine/training/validate.js';
import { assertClose, seededValues } from './support/seeded-values.js';
import { noSoftwareGpu, useSoftwareGpu } from './support/software-gpu.js';
import { tempDir } from './support/temp-dir.js';
import { tinyProject } from './support/tiny-project.js';

type Backend = 'webgpu' | 'cpu';

/** Kernel names the engine ran while `record` was on. */
const recorded = new Set<string>();
let recording = false;
const engine = tf.engine();
const runKernel = engine.runKernel.bind(engine);
engine.runKernel = ((name: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) => {
  if (recording) recorded.add(name);
  return runKernel(name, inputs, attrs);
}) as typeof engine.runKernel;

/** Kernels the parity cases ran on webgpu. */
const coveredOnWebgpu = new Set<string>();

async function on<T>(backend: Backend, work: () => Promise<T>): Promise<{ result: T; kernels: Set<string> }> {
  await tf.setBackend(backend);
  recorded.clear();
  recording = true;
  try {
    const result = await work();
    return { result, kernels: new Set(recorded) };
  } finally {
    recording = false;
  }
}

async function read(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  const values = await Promise.all(tensors.map(async (tensor) => Float32Array.from(await tensor.data())));
  tf.dispose(tensors);
  return values;
}

/** Runs `compute` on both backends and compares every tensor it returns. */
async function assertParity(label: string, compute: () => tf.Tensor[], tolerance = 1e-4): Promise<void> {
  const gpu = await on('webgpu', () => read(tf.tidy(compute)));
  gpu.kernels.forEach((name) => coveredOnWebgpu.add(name));
  const cpu = await on('cpu', () => read(tf.tidy(compute)));
  assert.equal(gpu.result.length, cpu.result.length);
  gpu.result.forEach((values, index) => assertClose(values, cpu.result[index]!, `${label}, output ${index}`, tolerance));
}

const input = (shape: number[], seed: number) => tf.tensor(seededValues(shape.reduce((a, b) => a * b, 1), seed), shape);

/** The value of `f` and its gradient for every input, under a non-uniform upstream gradient. */
function valueAndGradients(f: (...inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): tf.Tensor[] {
  const value = f(...inputs);
  const weights = input(value.shape, 99);
  const gradients = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)))(inputs);
  return [value, ...gradients];
}

/** Labels with every class and some ignored (255) pixels. */
function labelValues(count: number, classes: number, seed: number): Int32Array {
  return Int32Array.from(seededValues(count, seed), (value) => (value > 0.8 ? 255 : Math.floor(((value + 1) / 1.8) * classes) % classes));
}

function labels(shape: [number, number, number], classes: number, seed: number): tf.Tensor3D {
  return tf.tensor3d(labelValues(shape[0] * shape[1] * shape[2], classes, seed), shape, 'int32');
}

before(async () => {
  if (noSoftwareGpu) return;
  useSoftwareGpu();
  const backend = await initialiseBackend('webgpu');
  assert.equal(backend.adapter?.architecture, 'swiftshader');
});
after(async () => {
  if (!noSoftwareGpu) await tf.setBackend('webgpu');
});

describe('webgpu kernels match the cpu backend', { skip: noSoftwareGpu }, () => {
  it('3x3 convolution without bias (Conv2D and both of its gradients)', () =>
    assertParity('conv2d', () => valueAndGradients((x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), [input([2, 8, 8, 4], 1), input([3, 3, 4, 6], 2)])));

  it('1x1 convolution with bias, the head (FusedConv2D)', () =>
    assertParity('fused conv2d', () =>
      valueAndGradients((x, w, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b, strides: 1, pad: 'same' }), [
        input([2, 8, 8, 4], 3),
        input([1, 1, 4, 3], 4),
        input([3], 5),
      ]),
    ));

  it('2x2 stride-2 transposed convolution, the up-sampling (Conv2DBackpropInput forward)', () =>
    assertParity('conv2dTranspose', () =>
      valueAndGradients((x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 8, 8, 3], 2, 'valid'), [input([2, 4, 4, 6], 6), input([2, 2, 3, 6], 7)]),
    ));

  it('2x2 max pooling (MaxPool, MaxPoolGrad)', () => assertParity('maxPool', () => valueAndGradients((x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), [input([2, 8, 8, 4], 8)])));

  it('bilinear x2 up-sampling as the layer does it (ResizeBilinear, ResizeBilinearGrad)', () => {
    const layer = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' });
    return assertParity('upSampling2d', () => valueAndGradients((x) => layer.apply(x) as tf.Tensor, [input([2, 4, 4, 4], 9)]));
  });

  it('skip concatenation on channels (Concat, and SplitV for its gradient)', () =>
    assertParity('concat', () => valueAndGradients((a, b) => tf.concat([a!, b!], -1), [input([2, 4, 4, 3], 10), input([2, 4, 4, 5], 11)])));

  it('ReLU (Relu, and Step for its gradient)', () => assertParity('relu', () => valueAndGradients((x) => tf.relu(x), [input([2, 4, 4, 6], 12)])));

  it('batch normalisation in training mode, by tensor ops as webgpu runs it', () =>
    assertParity('batchNormInTraining', () => {
      const x = input([2, 4, 4, 6], 13);
      const gamma = tf.add(input([6], 14), 1.5);
      const beta = input([6], 15);
      const { output, mean, variance } = batchNormInTraining(x as tf.Tensor4D, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-5);
      const weights = input(output.shape, 99);
      const gradients = tf.grads((xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const again = batchNormInTraining(xs as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
        tf.dispose([again.mean, again.variance]);
        return tf.sum(tf.mul(again.output, weights));
      })([x, gamma, beta]);
      return [output, mean, variance, ...gradients];
    }));

  it('binary loss: BCE with logits + soft Dice over valid pixels', () =>
    assertParity('binary loss', () => {
      const truth = labels([2, 8, 8], 2, 16);
      return valueAndGradients((logits) => segmentationLoss(logits as tf.Tensor4D, truth, { classes: 2, classWeights: null }), [tf.mul(input([2, 8, 8, 1], 17), 3)]);
    }));

  it('3-class loss: weighted cross-entropy + soft Dice over valid pixels', () =>
    assertParity('3-class loss', () => {
      const truth = labels([2, 8, 8], 3, 18);
      return valueAndGradients((logits) => segmentationLoss(logits as tf.Tensor4D, truth, { classes: 3, classWeights: [1, 2, 3] }), [tf.mul(input([2, 8, 8, 3], 19), 3)]);
    }));

  it('clipping ~60 gradients to a global norm, past the storage buffers one shader may bind (AddN)', () =>
    assertParity('clipByGlobalNorm', () => {
      const gradients = Object.fromEntries(Array.from({ length: 61 }, (_, index) => [`g${index}`, input([3 + (index % 5), 4], 20 + index)]));
      return Object.values(clipByGlobalNorm(gradients, 1));
    }));

  for (const optimizerName of ['adam', 'adamw', 'rmsprop'] as const) {
    it(`${optimizerName}: two updates of kernels, scales and biases`, async () => {
      const steps = async () => {
        const optimizer = createOptimizer({ optimizer: optimizerName, learningRate: 1e-2, weightDecay: 1e-2 });
        const variables = [input([3, 3, 2, 4], 30), input([4], 31)].map((value) => tf.variable(value));
        for (const step of [0, 1]) {
          const gradients = Object.fromEntries(variables.map((variable, index) => [variable.name, input(variable.shape, 40 + 2 * step + index)]));
          optimizer.optimizer.applyGradients(gradients);
          optimizer.decayWeights(variables, 1e-2);
          tf.dispose(Object.values(gradients));
        }
        const values = await read(variables.map((variable) => tf.clone(variable)));
        tf.dispose(variables);
        optimizer.optimizer.dispose();
        return values;
      };
      const gpu = await on('webgpu', steps);
      gpu.kernels.forEach((name) => coveredOnWebgpu.add(name));
      const cpu = await on('cpu', steps);
      gpu.result.forEach((values, index) => assertClose(values, cpu.result[index]!, `${optimizerName} variable ${index}`));
    });
  }

  it('validation predictions: thresholded logits and the arg-max class', () =>
    assertParity('predictions', () => {
      const binary = input([2, 8, 8, 1], 50);
      const multi = input([2, 8, 8, 3], 51);
      return [tf.cast(tf.greater(tf.squeeze(binary, [3]), 0), 'int32'), tf.cast(tf.argMax(multi, 3), 'int32')];
    }, 0));
});

/** Batches that reach every kernel: values and labels with every class and some ignored pixels. */
function sample(id: number, size: number, classes: number): TrainingSample {
  const image = seededValues(size * size, 60 + id);
  return { id: String(id), width: size, height: size, channels: 1, image, labels: Uint8Array.from(labelValues(size * size, classes, 70 + id)) };
}

function modelConfig(classes: number, upsampling: ModelConfig['upsampling']): ModelConfig {
  return { base: 8, upsampling, inputChannels: 1, classes };
}

/** A project of `classes` whose images validation reads from disk, as a run's validation does. */
async function validationFiles(t: TestContext, classes: 2 | 3): Promise<ValidationData> {
  const project = await tinyProject(await tempDir(t), { count: 2, size: 16, classes });
  return { files: await sampleFiles(project, project.images), classes: project.classes, maxPixels: project.settings.maxImagePixels };
}

interface ValidationData {
  files: SampleFile[];
  classes: readonly ClassDef[];
  maxPixels: number;
}

/** Two training steps and a validation pass as a run makes them; the two step losses and the validation loss. */
async function trainTwice(config: ModelConfig, optimizerName: TrainSettings['optimizer'], samples: TrainingSample[], validation: ValidationData): Promise<number[]> {
  const model = buildUnet(config, 3);
  const settings = { ...PRESETS.fast.settings, epochs: 1, batchSize: 2, patience: 2, validationPercent: 10, optimizer: optimizerName, learningRate: 1e-3, weightDecay: 1e-4, classWeights: null, seed: 1, backend: 'auto' as const };
  const optimizer = createOptimizer(settings);
  const loss = { classes: config.classes, classWeights: config.classes === 3 ? [1, 2, 3] : null };
  const batch = assembleBatch(samples);
  const trainConfig = TrainConfig.parse({ preset: 'fast', model: config, settings, initialWeightsFrom: null });
  try {
    const losses = [await trainStep(model, optimizer, batch, loss, 1, 1e-3), await trainStep(model, optimizer, batch, loss, 1, 1e-3)];
    const validated = await validate(model, validation.files, { config: trainConfig, classes: validation.classes, maxPixels: validation.maxPixels, loss, pictureCount: 0 });
    return [...losses, validated.loss];
  } finally {
    model.dispose();
    optimizer.optimizer.dispose();
  }
}

/** The loss of a fresh U-Net on one batch and its gradient for every trainable weight. */
async function lossAndGradients(config: ModelConfig, samples: TrainingSample[]): Promise<Float32Array[]> {
  const model = buildUnet(config, 1);
  const { images, labels: truth } = batchTensors(assembleBatch(samples));
  const loss = { classes: config.classes, classWeights: config.classes === 3 ? [1, 2, 3] : null };
  try {
    const { value, grads } = tf.variableGrads(() => segmentationLoss(model.apply(images, { training: true }) as tf.Tensor4D, truth, loss), trainableVariables(model));
    return await read([value, ...Object.values(grads)]);
  } finally {
    tf.dispose([images, truth]);
    model.dispose();
  }
}

describe('a U-Net training step on webgpu', { skip: noSoftwareGpu }, () => {
  const samples = (classes: number, size: number) => [sample(1, size, classes), sample(2, size, classes)];

  // 32 px: at 16 px the bottom's batch norm sees two values per channel, where its input gradient is
  // zero up to rounding, and noise is all there is to compare. ReLU's gradient jumps at zero, so a
  // pre-activation within float rounding of zero would differ too: these seeds have none.
  it('gives the loss and every weight gradient the cpu backend gives (binary and 3-class, transposed and bilinear up-sampling)', async () => {
    for (const [classes, upsampling] of [[2, 'transpose'], [3, 'bilinear']] as const) {
      const gpu = await on('webgpu', () => lossAndGradients(modelConfig(classes, upsampling), samples(classes, 32)));
      gpu.kernels.forEach((name) => coveredOnWebgpu.add(name));
      const cpu = await on('cpu', () => lossAndGradients(modelConfig(classes, upsampling), samples(classes, 32)));
      gpu.result.forEach((values, index) => assertClose(values, cpu.result[index]!, `${classes} classes, ${upsampling}: ${index ? `gradient ${index}` : 'loss'}`, 1e-4, 0));
    }
  });

  it('trains two steps (Adam, clipping) and validates with the losses the cpu backend gives', async (t) => {
    const files = await validationFiles(t, 2);
    const gpu = await on('webgpu', () => trainTwice(modelConfig(2, 'transpose'), 'adam', samples(2, 16), files));
    gpu.kernels.forEach((name) => coveredOnWebgpu.add(name));
    const cpu = await on('cpu', () => trainTwice(modelConfig(2, 'transpose'), 'adam', samples(2, 16), files));
    assertClose(gpu.result, cpu.result, 'losses');
  });

  it('the cases above cover every kernel training and validation run, for every model, loss and optimiser', async (t) => {
    const used = new Set<string>();
    const files = { 2: await validationFiles(t, 2), 3: await validationFiles(t, 3) };
    // Each model variant, loss and optimiser at least once: the kernels are the union of theirs.
    const variants = [[2, 'transpose', 'adam'], [3, 'bilinear', 'rmsprop'], [2, 'bilinear', 'adamw']] as const;
    for (const [classes, upsampling, optimizerName] of variants) {
      const { kernels } = await on('cpu', () => trainTwice(modelConfig(classes, upsampling), optimizerName, [sample(3, 16, classes), sample(4, 16, classes)], files[classes]));
      kernels.forEach((name) => used.add(name));
    }
    const uncovered = [...used].filter((name) => !coveredOnWebgpu.has(name));
    assert.deepEqual(uncovered, [], `kernels training runs that no parity case ran on webgpu: ${uncovered.join(', ')}`);
  });
});
