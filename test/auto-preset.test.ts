import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_TIME_BUDGET_SECONDS, TrainRequest } from '../app/contract/training.js';
import { planAutoPreset } from '../app/engine/auto/auto-preset.js';
import { componentAreas } from '../app/engine/auto/object-scale.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { runCli } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';
import { tinyProject } from './support/tiny-project.js';

test('object sizes are measured as 4-connected regions of one class, ignoring background and 255', () => {
  // prettier-ignore
  const labels = Uint8Array.from([
    1, 1, 0, 2,
    1, 0, 0, 2,
    0, 255, 1, 0,
  ]);
  assert.deepEqual(componentAreas(labels, 4).sort(), [1, 2, 3]);
});

test('the auto preset plans from the data and says why, keeping what the request gives', async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 12, size: 64 });
  const plan = await planAutoPreset(project, TrainRequest.parse({ project: project.root, settings: { backend: 'wasm' } }));
  const chose = new Map(plan.choices.map((choice) => [choice.setting, choice]));
  for (const setting of ['backend', 'image scale', 'patch', 'base', 'batch size', 'epochs', 'time budget', 'augmentation']) {
    assert.ok(chose.get(setting)?.reason, `${setting}: ${JSON.stringify(plan.choices)}`);
  }
  assert.equal(plan.timeBudgetSeconds, DEFAULT_TIME_BUDGET_SECONDS);
  assert.equal(plan.settings.patchSize, null, '64 px images train whole');
  assert.ok(plan.settings.epochs >= 1);
  assert.match(chose.get('augmentation')!.reason, /grey images/);

  // Given values are kept, and not listed as choices.
  const given = await planAutoPreset(project, TrainRequest.parse({ project: project.root, model: { base: 8 }, settings: { backend: 'wasm', batchSize: 2, timeBudgetSeconds: 120 } }));
  assert.equal(given.model.base, 8);
  assert.equal(given.settings.batchSize, 2);
  assert.equal(given.timeBudgetSeconds, 120);
  assert.ok(!given.choices.some((choice) => choice.setting === 'base' || choice.setting === 'batch size'));
  assert.match(given.choices.find((choice) => choice.setting === 'time budget')!.reason, /given/);

  // With epochs given there is no budget; a run records the choices.
  const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, preset: 'auto', settings: { epochs: 3 } }));
  assert.equal(run.summary.config.settings.epochs, 3);
  assert.equal(run.summary.config.settings.timeBudgetSeconds, null);
  assert.ok(run.summary.config.choices.length > 0);
});

test('train defaults to the auto preset, prints its choices and fits its epochs into --budget', async (t) => {
  const project = await tinyProject(await tempDir(t), { count: 8 });
  const run = await runCli(['train', project.root, '--budget', '20s', '--base', '8', '--validation', '25']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /\(auto preset\).*about \d+ epochs in 20 s/);
  assert.match(run.stdout, /The auto preset chose:\n {2}backend: wasm/);
  assert.match(run.stdout, /time budget: 20 s \(given with --budget\)/);
  const runId = /Training run (\S+) /.exec(run.stdout)![1]!;
  const summary = JSON.parse(await fs.readFile(path.join(project.root, 'runs', runId, 'run.json'), 'utf8')) as {
    state: string;
    epochsDone: number;
    config: { preset: string; choices: { setting: string }[]; settings: { epochs: number; timeBudgetSeconds: number } };
  };
  assert.equal(summary.config.preset, 'auto');
  assert.ok(summary.config.choices.some((choice) => choice.setting === 'epochs'));
  assert.equal(summary.config.settings.timeBudgetSeconds, 20);
  // The budget set the epoch count from the measured epochs, and the run did exactly that many.
  assert.equal(summary.state, 'completed');
  assert.equal(summary.epochsDone, summary.config.settings.epochs);

  const both = await runCli(['train', project.root, '--budget', '5m', '--epochs', '3']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /either --budget .* or --epochs/);
  const bad = await runCli(['train', project.root, '--budget', 'soon']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--budget must be a duration such as 30m/);
});
