// What used to vanish quietly is reported: an unreadable run, a runs folder without permission, a
// kept segmentation whose labels cannot be read (its summary.csv row).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SegmentRequest } from '../app/contract/segmentation.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { RunFolder } from '../app/engine/runs/run-store.js';
import { segmentBatch } from '../app/inference/batch-segment.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import { runCli } from './support/run-cli.js';
import { CELLS_MODEL, loadCellsModel } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';

/** Root reads every folder; without these capabilities a permission applies as for a user. */
const AS_USER = process.getuid?.() === 0 ? ['setpriv', '--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search'] : [];

test('a run whose run.json cannot be read is listed as unreadable, with the file and why', async (t) => {
  const dir = await tempDir(t);
  const project = await Project.create(path.join(dir, 'p'), { classes: ['cell'] });
  await fs.mkdir(path.join(project.root, 'runs', '20260101-000000-dead'), { recursive: true });
  await fs.writeFile(path.join(project.root, 'runs', '20260101-000000-dead', 'run.json'), '{ torn');
  const services = createAppServices();
  const listed = await services.registry.dispatch('runs.list', { project: project.root }, { signal: new AbortController().signal });
  assert.ok(listed.ok);
  assert.deepEqual(listed.value, {
    runs: [],
    unreadable: [{ file: path.join(project.root, 'runs', '20260101-000000-dead', 'run.json'), code: 'invalid_project', message: `${path.join(project.root, 'runs', '20260101-000000-dead', 'run.json')}: not a valid run summary.` }],
  });
});

test('a runs folder that cannot be read is an error naming it, not "no trained model yet"', async (t) => {
  const dir = await tempDir(t);
  const project = await Project.create(path.join(dir, 'p'), { classes: ['cell'] });
  const runs = path.join(project.root, 'runs');
  await fs.chmod(runs, 0o000);
  const run = await runCli(['export', project.root, '--format', 'onnx', '--out', path.join(dir, 'm.onnx')], { prefix: AS_USER }).finally(() => fs.chmod(runs, 0o755));
  assert.equal(run.code, 1);
  assert.match(run.stderr, new RegExp(`Could not read ${runs}: permission denied`));
  assert.doesNotMatch(run.stderr, /no trained model yet/);
  assert.deepEqual(await RunFolder.list(project), { runs: [], unreadable: [] }, 'readable again');
});

test('a kept image whose labels cannot be read is reported, not silently left out of summary.csv', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 2, width: 64, height: 64 });
  const out = path.join(dir, 'out');
  const request = SegmentRequest.parse({ model: CELLS_MODEL, inputs: [data.imagesDir], output: out, tile: 64, overlap: 16 });
  const model = await loadCellsModel();
  try {
    await segmentBatch(request, { model });
    await fs.writeFile(path.join(out, 'cell_001_labels.png'), 'not a png any more');
    const again = await segmentBatch(request, { model });
    assert.equal(again.kept.length, 2);
    assert.equal(again.skipped.length, 1);
    assert.equal(path.basename(again.skipped[0]!.file), 'cell_001.png');
    assert.match(again.skipped[0]!.message, /cell_001_labels\.png[\s\S]*no row in summary\.csv/);
    const csv = await fs.readFile(path.join(out, 'summary.csv'), 'utf8');
    assert.match(csv, /cell_000\.png/);
    assert.doesNotMatch(csv, /cell_001\.png/);
  } finally {
    await model.session.release();
  }
});
