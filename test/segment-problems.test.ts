import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { SegmentReport } from '../app/contract/segmentation.js';
import { parseJson, runCli } from './support/run-cli.js';
import { CELLS_MODEL } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';

const segment = (input: string, output: string, options: { prefix?: string[] } = {}) =>
  runCli(['segment', '--model', CELLS_MODEL, '--classes', 'cell', '--normalisation', 'unit', '--tile', '64', '-i', input, '-o', output, '--json'], options);

async function grey(file: string, size = 64): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(Buffer.alloc(size * size, 90), { raw: { width: size, height: size, channels: 1 } }).png().toFile(file);
}

test('segment: an empty or missing input folder, or one of non-images, says so and names the folder (issue 18.5, 15.7, 14.4)', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'empty'));
  await fs.mkdir(path.join(dir, 'texts'));
  await fs.writeFile(path.join(dir, 'texts', 'readme.txt'), 'hello');
  const cases: [string, RegExp][] = [
    ['empty', /No images found in .*empty\. It holds no \.png/],
    ['missing', /No images found in .*missing\. Passed over:\s+.*missing: no such file or folder/],
    ['texts', /No images found in .*texts\. Passed over:\s+.*readme\.txt: not an image file/],
  ];
  for (const [input, expected] of cases) {
    const run = await segment(path.join(dir, input), path.join(dir, `out-${input}`));
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, expected);
    assert.doesNotMatch(run.stderr, /summary\.csv/);
  }
});

test('segment: when every image is skipped, each reason is listed and summary.csv is still written (exit 1) (issue 18.5)', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'bad'));
  await fs.writeFile(path.join(dir, 'bad', 'empty.png'), '');
  await fs.writeFile(path.join(dir, 'bad', 'text.png'), 'not a png');
  const run = await segment(path.join(dir, 'bad'), path.join(dir, 'new/out'));
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /skipped: .*empty\.png: empty file/);
  assert.match(run.stderr, /skipped: .*text\.png: /);
  assert.match(run.stderr, /All 2 files were skipped/);
  const report = parseJson<SegmentReport>(run);
  assert.equal((await fs.readFile(report.summaryCsv, 'utf8')).trim().split('\n').length, 1, 'the header only');
});

test('segment: an image whose output name is too long is skipped with the reason, the rest segmented, on every run (issue 18.5)', async (t) => {
  const dir = await tempDir(t);
  const long = `${'n'.repeat(250)}.png`;
  await grey(path.join(dir, 'in', long));
  await grey(path.join(dir, 'in', 'short.png'));
  for (const attempt of [1, 2]) {
    const run = await segment(path.join(dir, 'in'), path.join(dir, 'out'));
    assert.equal(run.code, 3, `run ${attempt}: ${run.stderr}`);
    const report = parseJson<SegmentReport>(run);
    assert.equal(report.segmented.length + report.kept.length, 1);
    assert.equal(report.skipped.length, 1);
    assert.match(report.skipped[0]!.message, /its name is too long for the file system/);
    const rows = (await fs.readFile(report.summaryCsv, 'utf8')).trim().split('\n');
    assert.equal(rows.length, 2);
    assert.match(rows[1]!, /short\.png/);
  }
});

test('segment: an output under /proc fails within seconds, and a read-only disk is called read-only (issue 18.4, 18.5)', async (t) => {
  const dir = await tempDir(t);
  await grey(path.join(dir, 'in', 'a.png'));
  const started = performance.now();
  const proc = await segment(path.join(dir, 'in'), '/proc/unet-studio-out');
  assert.equal(proc.code, 1);
  assert.match(proc.stderr, /Could not create the folder \/proc\/unet-studio-out: \/proc does not allow new folders/);
  assert.ok(performance.now() - started < 15_000, 'no hang');

  // A read-only file system of our own, in a private mount namespace (as root, or as a user through a user namespace).
  const readOnly = path.join(dir, 'ro');
  await fs.mkdir(readOnly);
  const prefix = ['unshare', '--mount', ...(process.getuid?.() === 0 ? [] : ['--map-root-user']), 'sh', '-c', 'mount -t tmpfs -o ro tmpfs "$0" && exec "$@"', readOnly];
  try {
    execFileSync(prefix[0]!, [...prefix.slice(1), 'true']);
  } catch (err) {
    t.skip(`cannot mount a read-only file system here (${(err as Error).message.split('\n')[0]})`);
    return;
  }
  for (const output of [readOnly, path.join(readOnly, 'new')]) {
    const run = await segment(path.join(dir, 'in'), output, { prefix });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /the file system is read-only/);
    assert.doesNotMatch(run.stderr, /no such file|does not exist|E[A-Z]{3,}/);
  }
});
