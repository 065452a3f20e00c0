import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { shardOf } from '../app/inference/summary-shards.js';
import { parseJson, runCli } from './support/run-cli.js';
import { CELLS_MODEL } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';

const SHARDS = 3;

/** summary.csv without the timing column, which differs from run to run. */
async function summaryWithoutSeconds(file: string): Promise<string[]> {
  const lines = (await fs.readFile(file, 'utf8')).trimEnd().split('\n');
  return lines.map((line) => line.slice(0, line.lastIndexOf(',')));
}

async function labelFiles(folder: string): Promise<string[]> {
  const entries = await fs.readdir(folder, { recursive: true });
  return entries.filter((name) => name.endsWith('_labels.png')).sort();
}

test(`segment --shard I/${SHARDS}: the shards cover every image exactly once, and --merge-summaries gives the summary of a single run`, async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 10, width: 48, height: 40, seed: 8 });
  // A sub-folder too, so shards are decided on relative paths.
  const nested = await generateSynthetic({ outDir: path.join(data.imagesDir, 'more'), count: 4, width: 48, height: 40, seed: 9 });
  await fs.rm(nested.masksDir, { recursive: true });
  const common = ['--model', CELLS_MODEL, '--classes', 'cell', '--normalisation', 'unit', '--input', data.imagesDir, '--recursive'];

  const single = path.join(dir, 'single');
  const whole = await runCli(['segment', ...common, '--output', single]);
  assert.equal(whole.code, 0, whole.stderr);
  const all = await labelFiles(single);
  assert.equal(all.length, 14);

  const sharded = path.join(dir, 'sharded');
  const perShard: string[][] = [];
  for (let index = 1; index <= SHARDS; index++) {
    const before = new Set(await labelFiles(sharded).catch(() => []));
    const run = await runCli(['segment', ...common, '--output', sharded, '--shard', `${index}/${SHARDS}`, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const report = parseJson<{ segmented: unknown[]; summaryCsv: string }>(run);
    assert.equal(report.summaryCsv, path.join(sharded, `summary-${index}-of-${SHARDS}.csv`));
    const added = (await labelFiles(sharded)).filter((name) => !before.has(name));
    assert.equal(added.length, report.segmented.length);
    perShard.push(added);
  }
  const union = perShard.flat().sort();
  assert.deepEqual(union, all, 'together the shards segment every image');
  assert.equal(new Set(union).size, union.length, 'and each image once');
  t.diagnostic(`images per shard: ${perShard.map((files) => files.length).join(', ')}`);
  for (const name of all) {
    assert.deepEqual(await fs.readFile(path.join(sharded, name)), await fs.readFile(path.join(single, name)), `${name}: the same mask as the single run`);
  }
  await assert.rejects(fs.access(path.join(sharded, 'summary.csv')), 'no summary.csv before the merge');

  const merged = await runCli(['segment', '--merge-summaries', sharded, '--json']);
  assert.equal(merged.code, 0, merged.stderr);
  assert.deepEqual(parseJson<{ rows: number; parts: string[] }>(merged).rows, 14);
  assert.deepEqual(await summaryWithoutSeconds(path.join(sharded, 'summary.csv')), await summaryWithoutSeconds(path.join(single, 'summary.csv')));

  // A shard that has not finished is named, and nothing is merged.
  await fs.rm(path.join(sharded, 'summary.csv'));
  await fs.rm(path.join(sharded, `summary-2-of-${SHARDS}.csv`));
  const incomplete = await runCli(['segment', '--merge-summaries', sharded]);
  assert.equal(incomplete.code, 1);
  assert.match(incomplete.stderr, new RegExp(`summary-2-of-${SHARDS}\\.csv is missing: that shard has not finished`));
  await assert.rejects(fs.access(path.join(sharded, 'summary.csv')));

  const badShard = await runCli(['segment', ...common, '--output', sharded, '--shard', '4/3']);
  assert.equal(badShard.code, 2);
  assert.match(badShard.stderr, /--shard: the shard number must be from 1 to the number of shards/);
  const notShard = await runCli(['segment', ...common, '--output', sharded, '--shard', '2']);
  assert.match(notShard.stderr, /--shard must be I\/N/);
});

test('shard assignment depends only on the image\'s own output path: adding images moves none of the others', () => {
  const names = Array.from({ length: 400 }, (_, i) => `plate-${i}/well_${i % 7}.tif`);
  const before = names.map((name) => shardOf(name, 8));
  const after = [...names, ...Array.from({ length: 100 }, (_, i) => `new/${i}.tif`)].map((name) => shardOf(name, 8));
  assert.deepEqual(after.slice(0, names.length), before);
  const sizes = Array.from({ length: 8 }, (_, shard) => before.filter((entry) => entry === shard + 1).length);
  assert.ok(sizes.every((size) => size > 25 && size < 75), `about 1/8 each: ${sizes.join(', ')}`);
});
