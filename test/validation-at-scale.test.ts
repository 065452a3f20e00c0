import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ImportRequest } from '../app/contract/schemas.js';
import { TrainRequest } from '../app/contract/training.js';
import { importImages } from '../app/dataset/import-images.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { train } from '../app/engine/training/trainer.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { Project } from '../app/project/project.js';
import { runCli } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';

const SIZE = 720;

test('validation Dice is the Dice of what `segment` writes: whole images tiled at full size, scored at the truth size', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 6, width: SIZE, height: SIZE });
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  await importImages(project, ImportRequest.parse({ project: project.root, images: [data.imagesDir], masks: data.masksDir }));
  const validation = project.images.slice(0, 2);
  for (const image of validation) await project.updateImage(image.id, { split: 'val' });

  // At scale 0.75 the model sees 540 x 540: two tiles of 512 a side, blended, then resampled to 720.
  const request = TrainRequest.parse({
    project: project.root,
    preset: 'fast',
    model: { base: 8 },
    settings: { epochs: 2, batchSize: 2, sizing: { mode: 'scale', scale: 0.75 }, patchSize: 96, validationPercent: 0, cacheMiB: 0 },
  });
  const { run } = await prepareRun(project, request);
  const records: { valDice: number | null; numTensors: number }[] = [];
  const summary = await train({ project, run, resume: false, signal: new AbortController().signal, onEpoch: (record) => records.push(record) });
  assert.equal(summary.state, 'completed');
  assert.equal(summary.valImages, 2);
  assert.equal(records[0]!.numTensors, records[1]!.numTensors, 'tensor count flat across epochs');
  const best = records[summary.bestEpoch! - 1]!.valDice!;

  const out = path.join(dir, 'segmented');
  const files = await Promise.all(validation.map((image) => project.resolve(image.file)));
  const segmented = await runCli(['segment', '--model', `${project.root}:${run.id}`, ...files.flatMap((file) => ['-i', file]), '-o', out]);
  assert.equal(segmented.code, 0, segmented.stderr);
  // Dice of the foreground, pooled over the validation images, counted here from the written label maps.
  let overlap = 0;
  let total = 0;
  for (const [index, image] of validation.entries()) {
    const truth = await readMaskPng(await project.resolve(image.mask!));
    const predicted = await readMaskPng(path.join(out, `${path.parse(files[index]!).name}_labels.png`));
    assert.deepEqual([predicted.width, predicted.height], [SIZE, SIZE]);
    const { labels } = predicted;
    for (let i = 0; i < labels.length; i++) {
      const isTrue = truth.labels[i] === 1;
      const isPredicted = labels[i] === 1;
      if (isTrue && isPredicted) overlap += 1;
      total += Number(isTrue) + Number(isPredicted);
    }
  }
  const fromSegment = (2 * overlap) / total;
  assert.ok(fromSegment > 0.3, `the model learned something (Dice ${fromSegment})`);
  assert.ok(Math.abs(best - fromSegment) < 1e-3, `validation Dice ${best}, Dice of segment's outputs ${fromSegment}`);
});
