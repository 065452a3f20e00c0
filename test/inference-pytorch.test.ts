import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { SegmentRequest } from '../app/contract/segmentation.js';
import { segmentBatch } from '../app/inference/batch-segment.js';
import { importExternalModel } from '../app/inference/import-model.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { Project } from '../app/project/project.js';
import { exportPytorchUnet, pytorchUnavailable, syntheticStack } from './support/pytorch-unet.js';
import { tempDir } from './support/temp-dir.js';

const missingTorch = await pytorchUnavailable();
const SIZE = 96; // a multiple of 16, so neither side pads differently

for (const variant of [
  { classes: 2 as const, base: 4, bilinear: false, names: ['cell'] },
  { classes: 3 as const, base: 4, bilinear: true, names: ['cytoplasm', 'nucleus'] },
]) {
  test(`an ONNX model exported from a PyTorch U-Net (${variant.classes === 2 ? 'binary, transposed conv' : '3 classes, bilinear'}) imports and segments; its masks match PyTorch's own on >= 99.9% of pixels`, { skip: missingTorch ?? false }, async (t) => {
    const dir = await tempDir(t);
    const predict = syntheticStack(4, SIZE, 21, variant.classes);
    const exported = await exportPytorchUnet(dir, { base: variant.base, bilinear: variant.bilinear, classes: variant.classes, epochs: 8, trainCount: 16, size: 32, learningRate: 0.01, predict: predict.images, predictShape: [4, SIZE, SIZE] });
    const imagesDir = path.join(dir, 'images');
    await mkdir(imagesDir);
    for (let index = 0; index < 4; index++) {
      await sharp(predict.images.subarray(index * SIZE * SIZE, (index + 1) * SIZE * SIZE), { raw: { width: SIZE, height: SIZE, channels: 1 } }).toColourspace('b-w').png().toFile(path.join(imagesDir, `img_${index}.png`));
    }
    const project = await Project.create(path.join(dir, 'project'), { classes: variant.names });
    const { model } = await importExternalModel(project, exported.model, { classes: variant.names, normalisation: 'unit', name: 'torch' });
    assert.equal(model.outputChannels, variant.classes === 2 ? 1 : 3);
    assert.equal(model.source, 'external');

    const report = await segmentBatch(SegmentRequest.parse({ model: `${project.root}:torch`, inputs: [imagesDir], output: path.join(dir, 'out') }));
    assert.equal(report.segmented.length, 4);
    const torch = exported.predictions!;
    let agree = 0;
    const classesSeen = new Set<number>();
    for (let index = 0; index < 4; index++) {
      const ours = await readMaskPng(path.join(dir, 'out', `img_${index}_labels.png`));
      for (let p = 0; p < SIZE * SIZE; p++) {
        const theirs = torch.data[index * SIZE * SIZE + p]!;
        classesSeen.add(theirs);
        if (ours.labels[p] === theirs) agree += 1;
      }
    }
    const fraction = agree / (4 * SIZE * SIZE);
    t.diagnostic(`ONNX in U-Net Studio vs PyTorch: ${(100 * fraction).toFixed(4)}% of pixels agree; classes predicted ${[...classesSeen].join(',')}`);
    assert.ok(classesSeen.size >= 2, 'PyTorch predicts more than one class (a meaningful mask)');
    assert.ok(fraction >= 0.999, `agreement ${(100 * fraction).toFixed(4)}%`);
  });
}
