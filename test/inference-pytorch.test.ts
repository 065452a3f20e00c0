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

/**
 * What the reference predict.py is compared on: a size every U-Net takes (96, a multiple of 16), an odd
 * size (500x375, which U-Net Studio's own models would pad), and the reference's --scale 0.5 on it.
 */
const CASES = [
  { name: 'native 96x96', count: 4, width: 96, height: 96, scale: 1, seed: 21 },
  { name: 'odd size 500x375', count: 2, width: 500, height: 375, scale: 1, seed: 22 },
  { name: 'scale 0.5 on 500x375', count: 2, width: 500, height: 375, scale: 0.5, seed: 23 },
] as const;

for (const variant of [
  { classes: 2 as const, base: 4, bilinear: false, names: ['cell'] },
  { classes: 3 as const, base: 4, bilinear: true, names: ['cytoplasm', 'nucleus'] },
]) {
  test(`an ONNX model exported from a PyTorch U-Net (${variant.classes === 2 ? 'binary, transposed conv' : '3 classes, bilinear'}) imports and segments like the reference predict.py on >= 99.9% of pixels: ${CASES.map((entry) => entry.name).join(', ')}`, { skip: missingTorch ?? false }, async (t) => {
    const dir = await tempDir(t);
    const stacks = CASES.map((entry) => ({ ...entry, stack: syntheticStack(entry.count, { width: entry.width, height: entry.height }, entry.seed, variant.classes) }));
    const exported = await exportPytorchUnet(dir, {
      base: variant.base,
      bilinear: variant.bilinear,
      classes: variant.classes,
      epochs: 8,
      trainCount: 16,
      size: 32,
      learningRate: 0.01,
      predict: stacks.map((entry) => ({ images: entry.stack.images, shape: entry.stack.shape, scale: entry.scale })),
    });
    const project = await Project.create(path.join(dir, 'project'), { classes: variant.names });
    // The model as it is, and imported a second time with the sizing and resizing predict.py --scale 0.5 uses.
    const { model } = await importExternalModel(project, exported.model, { classes: variant.names, normalisation: 'unit', name: 'torch' });
    assert.equal(model.outputChannels, variant.classes === 2 ? 1 : 3);
    assert.equal(model.source, 'external');
    assert.equal(model.sizeMultiple, 1, 'the reference U-Net takes any size (it pads inside), so nothing is padded');
    const half = await importExternalModel(project, exported.model, { classes: variant.names, normalisation: 'unit', name: 'torch-half', sizing: { mode: 'scale', scale: 0.5 }, resize: 'reference' });
    assert.deepEqual([half.model.sizing, half.model.resize], [{ mode: 'scale', scale: 0.5 }, 'reference']);

    for (const [index, entry] of stacks.entries()) {
      const imagesDir = path.join(dir, `images-${index}`);
      await mkdir(imagesDir);
      const pixels = entry.width * entry.height;
      for (let image = 0; image < entry.count; image++) {
        await sharp(entry.stack.images.subarray(image * pixels, (image + 1) * pixels), { raw: { width: entry.width, height: entry.height, channels: 1 } })
          .toColourspace('b-w')
          .png()
          .toFile(path.join(imagesDir, `img_${image}.png`));
      }
      const output = path.join(dir, `out-${index}`);
      const report = await segmentBatch(SegmentRequest.parse({ model: `${project.root}:${entry.scale === 1 ? 'torch' : 'torch-half'}`, inputs: [imagesDir], output }));
      assert.equal(report.segmented.length, entry.count);
      const torch = exported.predictions[index]!;
      assert.deepEqual(torch.shape, [entry.count, entry.height, entry.width]);
      let agree = 0;
      const classesSeen = new Set<number>();
      for (let image = 0; image < entry.count; image++) {
        const ours = await readMaskPng(path.join(output, `img_${image}_labels.png`));
        assert.deepEqual([ours.width, ours.height], [entry.width, entry.height]);
        for (let p = 0; p < pixels; p++) {
          const theirs = torch.data[image * pixels + p]!;
          classesSeen.add(theirs);
          if (ours.labels[p] === theirs) agree += 1;
        }
      }
      const fraction = agree / (entry.count * pixels);
      t.diagnostic(`${entry.name}: ${(100 * fraction).toFixed(4)}% of pixels agree with PyTorch; classes predicted ${[...classesSeen].join(',')}`);
      assert.ok(classesSeen.size >= 2, `${entry.name}: PyTorch predicts more than one class (a meaningful mask)`);
      assert.ok(fraction >= 0.999, `${entry.name}: agreement ${(100 * fraction).toFixed(4)}%`);
    }
  });
}
