import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { parseJson, runCli } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';

test('init, import, info and export-dataset work end to end with --json', async (t) => {
  const dir = await tempDir(t);
  const project = path.join(dir, 'cells');
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 6, width: 40, height: 32, seed: 3 });
  await generateSynthetic({ outDir: path.join(dir, 'more'), count: 2, width: 40, height: 32, seed: 99 });

  const init = await runCli(['init', project, '--classes', 'cell', '--json']);
  assert.equal(init.code, 0, init.stderr);
  assert.deepEqual(parseJson<{ classes: { name: string }[] }>(init).classes.map((cls) => cls.name), ['background', 'cell']);

  const imported = await runCli(['import', project, '--images', data.imagesDir, path.join(dir, 'more/images'), '--masks', data.masksDir, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  assert.deepEqual(pick(parseJson(imported), ['imported', 'labelled', 'unlabelled']), { imported: 8, labelled: 6, unlabelled: 2 });

  const info = await runCli(['info', project, '--json']);
  assert.deepEqual(parseJson<{ counts: unknown }>(info).counts, { images: 8, unlabelled: 2, partial: 0, labelled: 6, predicted: 0, reviewed: 0 });
  const human = await runCli(['info', project]);
  assert.match(human.stdout, /Images: +8 \(6 labelled, 2 unlabelled/);

  const out = path.join(dir, 'reference');
  const exported = await runCli(['export-dataset', project, '--out', out, '--json']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(parseJson<{ images: number }>(exported).images, 6);
  const imgs = (await fs.readdir(path.join(out, 'data/imgs'))).sort();
  const masks = (await fs.readdir(path.join(out, 'data/masks'))).sort();
  assert.equal(imgs.length, 6);
  assert.deepEqual(masks, imgs.map((name) => `${path.parse(name).name}_mask.png`));
  // The exported mask is the stored label map, pixel for pixel.
  const stored = await readMaskPng(path.join(project, 'masks', `${path.parse(imgs[0]!).name}.png`));
  const written = await readMaskPng(path.join(out, 'data/masks', masks[0]!));
  assert.deepEqual(written.labels, stored.labels);

  const again = await runCli(['export-dataset', project, '--out', out]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already has files; export into an empty folder/);
});

test('errors exit non-zero and name the file and the problem', async (t) => {
  const dir = await tempDir(t);
  const missing = await runCli(['info', path.join(dir, 'nope')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope is not a U-Net Studio project/);

  const usage = await runCli(['init', path.join(dir, 'p')]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--classes/);

  const unknownFlag = await runCli(['info', dir, '--colour']);
  assert.equal(unknownFlag.code, 2);

  await runCli(['init', path.join(dir, 'p'), '--classes', 'cell']);
  await fs.writeFile(path.join(dir, 'broken.png'), Buffer.from('not really a png'));
  const partial = await runCli(['import', path.join(dir, 'p'), '--images', path.join(dir, 'broken.png'), '--json']);
  assert.equal(partial.code, 3, 'finished with skipped files');
  const report = parseJson<{ skipped: { file: string; message: string }[] }>(partial);
  assert.match(report.skipped[0]!.message, /broken\.png: .*not an image/i);
});

test('an unreadable folder is reported and the rest of a recursive import goes ahead', async (t) => {
  const dir = await tempDir(t);
  const project = path.join(dir, 'p');
  await runCli(['init', project, '--classes', 'cell']);
  const images = path.join(dir, 'images');
  for (const folder of ['day1', 'locked']) {
    await fs.mkdir(path.join(images, folder), { recursive: true });
    const data = new Uint8Array(16 * 16).fill(folder.length * 10);
    await sharp(data, { raw: { width: 16, height: 16, channels: 1 } }).png().toFile(path.join(images, folder, `${folder}.png`));
  }
  // Root reads every folder; drop the capabilities that let it, so the permission applies as for a user.
  const prefix = process.getuid?.() === 0 ? ['setpriv', '--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search'] : [];
  await fs.chmod(path.join(images, 'locked'), 0o000);
  const run = await runCli(['import', project, '--images', images, '--recursive', '--json'], { prefix }).finally(() =>
    fs.chmod(path.join(images, 'locked'), 0o755),
  );
  assert.equal(run.code, 3, run.stderr);
  const report = parseJson<{ imported: number; skipped: { file: string; message: string }[] }>(run);
  assert.equal(report.imported, 1);
  assert.equal(report.skipped.length, 1);
  assert.match(report.skipped[0]!.message, /locked.*permission denied/i);
  const info = parseJson<{ counts: { images: number } }>(await runCli(['info', project, '--json']));
  assert.equal(info.counts.images, 1);
});

function pick(object: Record<string, unknown>, keys: string[]) {
  return Object.fromEntries(keys.map((key) => [key, object[key]]));
}
