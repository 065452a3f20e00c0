import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { CLI, runCli } from './support/run-cli.js';
import { CELLS_MODEL } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';

/** The pid of a process that has finished: files named with it are a dead writer's. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await fs.readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)));
}

test('the next import removes temporary files of dead writers and image copies no entry refers to, and says how many (issue 18.14)', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 3, width: 32, height: 32 });
  const more = await generateSynthetic({ outDir: path.join(dir, 'more'), count: 1, width: 32, height: 32, seed: 7 });
  const project = path.join(dir, 'project');
  assert.equal((await runCli(['init', project, '--classes', 'cell'])).code, 0);
  assert.equal((await runCli(['import', project, '--images', data.imagesDir, '--masks', data.masksDir])).code, 0);

  const dead = deadPid();
  const live = spawn('sleep', ['60']);
  t.after(() => live.kill());
  const planted = [`images/.cell_000.png.${dead}.0badc0de.tmp`, `masks/.cell_000.png.bak.${dead}.0badc0de.tmp`, `.project.json.${dead}.0badc0de.tmp`];
  for (const file of planted) await fs.writeFile(path.join(project, file), 'half written');
  const beingWritten = `images/.other.png.${live.pid}.0badc0de.tmp`;
  await fs.writeFile(path.join(project, beingWritten), 'another process is writing this');
  await fs.copyFile(data.images[0]!, path.join(project, 'images', 'orphan.png'));

  const run = await runCli(['import', project, '--images', more.imagesDir]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /Removed 4 files left by an interrupted earlier run: 3 unfinished temporary files and 1 image copies no entry refers to/);
  const left = await filesUnder(project);
  for (const file of [...planted, 'images/orphan.png']) assert.ok(!left.includes(file), `${file} removed`);
  assert.ok(left.includes(beingWritten), 'a live writer\'s file is kept');
  assert.equal(left.filter((file) => file.startsWith('images/')).length, 4 + 1);
});

test('after an import is killed mid-way, the next one leaves no orphan copies or temporary files (issue 18.14)', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 60, width: 96, height: 96 });
  const project = path.join(dir, 'project');
  assert.equal((await runCli(['init', project, '--classes', 'cell'])).code, 0);
  const child = spawn(process.execPath, [CLI, 'import', project, '--images', data.imagesDir, '--masks', data.masksDir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // Entries reach project.json in batches of 200, so copies in images/ before the end are not indexed yet.
  const copies = async () => (await fs.readdir(path.join(project, 'images'))).filter((name) => !name.startsWith('.')).length;
  for (let waited = 0; (await copies()) < 5; waited += 20) {
    assert.ok(waited < 60_000, 'the import started copying');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  await exited;
  assert.ok((await copies()) >= 5, 'orphan copies were left by the kill');
  assert.equal(JSON.parse(await fs.readFile(path.join(project, 'project.json'), 'utf8')).images.length, 0, 'none of them indexed');

  const rerun = await runCli(['import', project, '--images', data.imagesDir, '--masks', data.masksDir, '--json']);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stderr, /Removed \d+ files left by an interrupted earlier run/);
  const index = JSON.parse(await fs.readFile(path.join(project, 'project.json'), 'utf8')) as { images: { file: string }[] };
  assert.equal(index.images.length, 60);
  const files = await filesUnder(project);
  assert.deepEqual(files.filter((file) => file.endsWith('.tmp')), []);
  assert.deepEqual(files.filter((file) => file.startsWith('images/')).sort(), index.images.map((image) => image.file).sort());
});

test('segment removes temporary files a killed run left in its output folder, and says how many (issue 18.14)', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 1, width: 64, height: 64 });
  const out = path.join(dir, 'out');
  await fs.mkdir(out);
  const dead = deadPid();
  const leftovers = [`.cell_000_labels.png.${dead}.0badc0de.tmp`, `.cell_000_colour.png.${dead}.0badc0de.tmp`];
  for (const name of leftovers) await fs.writeFile(path.join(out, name), 'half a PNG');
  const run = await runCli(['segment', '--model', CELLS_MODEL, '--classes', 'cell', '--normalisation', 'unit', '-i', data.imagesDir, '-o', out, '--tile', '64']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Removed 2 unfinished files left by an interrupted earlier run/);
  assert.deepEqual((await fs.readdir(out)).filter((name) => name.endsWith('.tmp')), []);
});
