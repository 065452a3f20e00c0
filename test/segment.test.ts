import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { type SegmentReport, SegmentRequest } from '../app/contract/segmentation.js';
import { TrainRequest } from '../app/contract/training.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { train } from '../app/engine/training/trainer.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { segmentBatch } from '../app/inference/batch-segment.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { parseJson, runCli } from './support/run-cli.js';
import { CELLS_MODEL, loadCellsModel } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';
import { TINY_SETTINGS, tinyProject } from './support/tiny-project.js';

const request = (fields: Record<string, unknown>) => SegmentRequest.parse({ model: CELLS_MODEL, tile: 64, overlap: 16, ...fields });

test('CLI: corrupt, zero-byte and non-image files are listed with reasons, the rest segmented into decodable PNGs (exit 3)', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 3, width: 96, height: 80 });
  await fs.writeFile(path.join(data.imagesDir, 'empty.png'), '');
  await fs.writeFile(path.join(data.imagesDir, 'notes.txt'), 'not an image');
  const png = await fs.readFile(data.images[0]!);
  await fs.writeFile(path.join(data.imagesDir, 'truncated.png'), png.subarray(0, png.length / 2));
  await fs.writeFile(path.join(data.imagesDir, 'fake.jpg'), 'hello, I am text');
  const out = path.join(dir, 'out');
  const run = await runCli(['segment', '--model', `${CELLS_MODEL}`, '-i', data.imagesDir, '-o', out, '--overlay', '--probabilities', '--tile', '64', '--mask-threshold', '0.5', '--json']);
  // The fixture has no metadata: the run must say what is missing and how to give it.
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /class names \(--classes/);
  assert.match(run.stderr, /--normalisation/);

  const run2 = await runCli(['segment', '--model', CELLS_MODEL, '-i', data.imagesDir, '-o', out, '--overlay', '--probabilities', '--tile', '64', '--classes', 'cell', '--normalisation', 'unit', '--json']);
  assert.equal(run2.code, 3, run2.stderr);
  const report = parseJson<SegmentReport>(run2);
  for (const problem of report.skipped) assert.ok(run2.stderr.includes(problem.message), `listed: ${problem.message}`);
  assert.deepEqual(report.segmented.map((entry) => path.basename(entry.file)).sort(), ['cell_000.png', 'cell_001.png', 'cell_002.png']);
  const reasons = Object.fromEntries(report.skipped.map((problem) => [path.basename(problem.file), problem.message]));
  assert.deepEqual(Object.keys(reasons).sort(), ['empty.png', 'fake.jpg', 'notes.txt', 'truncated.png']);
  assert.match(reasons['empty.png']!, /empty file/);
  assert.match(reasons['notes.txt']!, /not an image file/);
  assert.match(reasons['truncated.png']!, /truncated or corrupt|corrupt/);
  assert.match(reasons['fake.jpg']!, /not an image|corrupt/);
  for (const entry of report.segmented) {
    assert.equal(entry.outputs.length, 5);
    for (const file of entry.outputs) {
      const meta = await sharp(file).metadata();
      assert.equal(meta.width, 96);
      assert.equal(meta.height, 80);
    }
    const labels = await readMaskPng(entry.outputs[0]!);
    const truth = await readMaskPng(path.join(data.masksDir, path.basename(entry.file)));
    const agree = labels.labels.reduce((sum, label, i) => sum + (label === truth.labels[i] ? 1 : 0), 0) / labels.labels.length;
    assert.ok(agree > 0.95, `labels agree with the drawn cells on ${agree}`);
    assert.ok(entry.fractions[1]! > 0.05 && entry.fractions[1]! < 0.8, `cell fraction ${entry.fractions[1]}`);
  }
  const csv = (await fs.readFile(report.summaryCsv, 'utf8')).trim().split('\n');
  assert.equal(csv[0], 'file,width,height,fraction_background,fraction_cell,seconds');
  assert.equal(csv.length, 4);
});

test('CLI: a project model imported from PyTorch segments; skipped files give exit code 3 and are listed', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 2, width: 64, height: 64 });
  await fs.writeFile(path.join(data.imagesDir, 'empty.tif'), '');
  const project = path.join(dir, 'project');
  assert.equal((await runCli(['init', project, '--classes', 'cell'])).code, 0);
  const missing = await runCli(['import-model', project, CELLS_MODEL]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--classes/);
  assert.match(missing.stderr, /--normalisation/);
  const imported = await runCli(['import-model', project, CELLS_MODEL, '--classes', 'cell', '--normalisation', 'unit', '--name', 'torch-cells', '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  const described = parseJson<{ model: { outputChannels: number; sizeMultiple: number; resize: string } }>(imported).model;
  assert.deepEqual([described.outputChannels, described.sizeMultiple, described.resize], [1, 1, 'studio']);
  const sized = await runCli(['import-model', project, CELLS_MODEL, '--classes', 'cell', '--normalisation', 'unit', '--name', 'half', '--scale', '0.5', '--resize', 'reference']);
  assert.equal(sized.code, 0, sized.stderr);
  assert.match(sized.stdout, /any size, images scaled by 0\.5, reference resizing/);
  const sidecar = JSON.parse(await fs.readFile(path.join(project, 'models', 'half.model.json'), 'utf8')) as { sizing: unknown; resize: string };
  assert.deepEqual([sidecar.sizing, sidecar.resize], [{ mode: 'scale', scale: 0.5 }, 'reference']);
  const badSize = await runCli(['import-model', project, CELLS_MODEL, '--classes', 'cell', '--normalisation', 'unit', '--size', '8x8']);
  assert.equal(badSize.code, 2);
  assert.match(badSize.stderr, /--size: /);
  const badRule = await runCli(['import-model', project, CELLS_MODEL, '--resize', 'bicubic']);
  assert.match(badRule.stderr, /--resize must be one of studio, reference/);
  const absent = await runCli(['import-model', project, path.join(dir, 'absent.onnx'), '--classes', 'cell', '--normalisation', 'unit']);
  assert.match(absent.stderr, /absent\.onnx: no such file or folder/);
  const unknown = await runCli(['segment', '--model', `${project}:nope`, '--input', data.imagesDir, '--output', path.join(dir, 'never')]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /has no model "nope": looked for an imported model .*nope\.onnx and a training run .*Its models: half \(imported\), torch-cells \(imported\)\./);

  const out = path.join(dir, 'out');
  const run = await runCli(['segment', '--model', `${project}:torch-cells`, '--input', data.imagesDir, '--output', out, '--json']);
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /skipped: .*empty\.tif: empty file/);
  const report = parseJson<{ segmented: unknown[]; provider: { name: string; skipped: unknown[] } }>(run);
  assert.equal(report.segmented.length, 2);
  assert.equal(report.provider.name, 'cpu');
  assert.ok(report.provider.skipped.length >= 1, 'the providers passed over are reported');
});

test('cancel mid-folder, then run again: finished images are kept, the rest is segmented', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 6, width: 64, height: 64 });
  const out = path.join(dir, 'out');
  const model = await loadCellsModel();
  t.after(() => model.session.release());
  const controller = new AbortController();
  await assert.rejects(
    segmentBatch(request({ inputs: [data.imagesDir], output: out }), {
      model,
      signal: controller.signal,
      onProgress: (done) => {
        if (done >= 2) controller.abort();
      },
    }),
    (err: Error) => err.name === 'AppError' || err.name === 'AbortError',
  );
  const finished = (await fs.readdir(out)).filter((name) => name.endsWith('_labels.png'));
  assert.ok(finished.length >= 2 && finished.length < 6, `finished before the cancel: ${finished.join(', ')}`);
  assert.deepEqual((await fs.readdir(out)).filter((name) => name.endsWith('.tmp')), [], 'no half-written files');
  const mtimes = await Promise.all(finished.map(async (name) => (await fs.stat(path.join(out, name))).mtimeMs));

  const again = await segmentBatch(request({ inputs: [data.imagesDir], output: out }), { model });
  assert.equal(again.kept.length, finished.length);
  assert.equal(again.segmented.length, 6 - finished.length);
  assert.deepEqual(await Promise.all(finished.map(async (name) => (await fs.stat(path.join(out, name))).mtimeMs)), mtimes, 'kept outputs were not rewritten');
  assert.equal((await fs.readFile(again.summaryCsv, 'utf8')).trim().split('\n').length, 7, 'the summary lists every image');
  const overwritten = await segmentBatch(request({ inputs: [data.imagesDir], output: out, overwrite: true }), { model });
  assert.equal(overwritten.segmented.length, 6);
});

test('an output folder inside the inputs is refused, and an input is never overwritten', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 2, width: 32, height: 32 });
  const inside = await runCli(['segment', '--model', CELLS_MODEL, '--input', data.imagesDir, '--output', path.join(data.imagesDir, 'out')]);
  assert.equal(inside.code, 1);
  assert.match(inside.stderr, /inside the input folder/);
  const same = await runCli(['segment', '--model', CELLS_MODEL, '--input', path.join(dir, 'data'), '--output', path.join(dir, 'data')]);
  assert.equal(same.code, 1);
  assert.match(same.stderr, /inside the input folder/);

  // An input that sits where an output would go.
  const out = path.join(dir, 'out');
  await fs.mkdir(out);
  const victim = path.join(out, 'cell_000_labels.png');
  await fs.copyFile(data.images[1]!, victim);
  const before = await fs.readFile(victim);
  const model = await loadCellsModel();
  t.after(() => model.session.release());
  await assert.rejects(segmentBatch(request({ inputs: [data.imagesDir, victim], output: out }), { model }), /would overwrite the input/);
  assert.deepEqual(await fs.readFile(victim), before);
});

test('--model <project>: the latest run\'s best model is exported to ONNX once and segments at the run\'s sizing', async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(dir, { count: 6, size: 32, classes: 3 });
  const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, preset: 'fast', settings: { ...TINY_SETTINGS, epochs: 1, sizing: { mode: 'scale', scale: 0.5 } } }));
  await train({ project, run, resume: false, signal: new AbortController().signal });
  const images = path.join(dir, 'data', 'images');
  const report = await segmentBatch(request({ model: project.root, inputs: [images], output: path.join(dir, 'out'), probabilities: true }));
  assert.equal(report.model.source, 'studio');
  assert.equal(report.model.runId, run.id);
  assert.deepEqual(report.model.classes.map((entry) => entry.name), ['background', 'cytoplasm', 'nucleus']);
  assert.deepEqual(report.model.sizing, { mode: 'scale', scale: 0.5 });
  assert.equal(report.segmented.length, 6);
  const first = report.segmented[0]!;
  assert.deepEqual([first.width, first.height], [32, 32], 'outputs at the image size, not the model size');
  assert.equal(first.outputs.length, 2 + 3);
  const onnx = path.join(project.root, 'models', `run-${run.id}.onnx`);
  const exportedAt = (await fs.stat(onnx)).mtimeMs;
  const again = await segmentBatch(request({ model: `${project.root}:${run.id}`, inputs: [images], output: path.join(dir, 'out2') }));
  assert.equal(again.segmented.length, 6);
  assert.equal((await fs.stat(onnx)).mtimeMs, exportedAt, 'not exported again');
});
