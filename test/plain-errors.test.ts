import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { EventBus } from '../app/contract/event-bus.js';
import { makeFolder } from '../app/files/make-folder.js';
import { JobManager } from '../app/jobs/job-manager.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import { runCli } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';

/** An errno name (EEXIST, EACCES, ENOENT…) in a message meant for users. */
const ERRNO_NAME = /\bE[A-Z]{2,}\b/;

function assertPlain(message: string, file: string): void {
  assert.doesNotMatch(message, ERRNO_NAME, message);
  assert.ok(message.includes(file), `"${message}" should name ${file}`);
}

test('a folder under /proc fails at once with a plain message instead of hanging (issue 18.4)', async () => {
  const folder = '/proc/unet-studio-probe/deeper';
  const started = performance.now();
  // Node's recursive mkdir never settles here; the race makes the old behaviour fail rather than hang the suite.
  const outcome = await Promise.race([
    makeFolder(folder).then(() => 'created', (err: Error) => err),
    new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5000).unref()),
  ]);
  assert.ok(outcome instanceof Error, String(outcome));
  assert.ok(performance.now() - started < 1000, 'fails within a second');
  assertPlain(outcome.message, folder);
  assert.match(outcome.message, /\/proc does not allow new folders/);

  // Through the contract, even where /proc is granted, creating a project there ends at once.
  const services = createAppServices({ grants: { home: null, roots: ['/proc'] } });
  const created = await Promise.race([
    services.registry.dispatch('project.create', { path: '/proc/unet-studio-probe', classes: ['cell'] }, { signal: new AbortController().signal }),
    new Promise<string>((resolve) => setTimeout(() => resolve('still creating after 5 s'), 5000).unref()),
  ]);
  await services.close();
  assert.ok(typeof created === 'object' && !created.ok, String(created));
  if (typeof created === 'object' && !created.ok) assert.match(created.error.message, /\/proc does not allow new folders/);

  const cli = await runCli(['init', '/proc/unet-studio-probe', '--classes', 'cell']);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /Could not create the folder \/proc\/unet-studio-probe\/.*: \/proc does not allow new folders/);
});

test('folders are created step by step, and a file in the way is named (issue 18.4, 18.16)', async (t) => {
  const dir = await tempDir(t);
  await makeFolder(path.join(dir, 'a/b/c'));
  assert.ok((await fs.stat(path.join(dir, 'a/b/c'))).isDirectory());
  await makeFolder(path.join(dir, 'a/b/c')); // already there: nothing to do
  await fs.writeFile(path.join(dir, 'file'), 'x');
  await assert.rejects(makeFolder(path.join(dir, 'file/sub')), (err: Error) => {
    assertPlain(err.message, path.join(dir, 'file'));
    return /is a file, not a folder/.test(err.message);
  });
  await fs.symlink(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
  await assert.rejects(makeFolder(path.join(dir, 'dangling/x')), (err: Error) => /dangling is a broken link/.test(err.message) && !ERRNO_NAME.test(err.message));
});

test('creating a project where a file stands gives plain words over the contract and the CLI, not EEXIST (issue 18.16)', async (t) => {
  const dir = await tempDir(t);
  const blocker = path.join(dir, 'notes.txt');
  await fs.writeFile(blocker, 'keep me');
  const services = createAppServices({ browseHome: dir });
  t.after(() => services.close());
  const answer = await services.registry.dispatch('project.create', { path: blocker, classes: ['cell'] }, { signal: new AbortController().signal });
  assert.equal(answer.ok, false);
  if (!answer.ok) assertPlain(answer.error.message, blocker);
  assert.equal(await fs.readFile(blocker, 'utf8'), 'keep me');

  const cli = await runCli(['init', blocker, '--classes', 'cell']);
  assert.equal(cli.code, 1);
  assertPlain(cli.stderr, blocker);
});

test('raw file-system errors that reach a job or the contract registry are put in plain words naming the file (issue 18.16)', async (t) => {
  const dir = await tempDir(t);
  const jobs = new JobManager(new EventBus());
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    [path.join(dir, 'exists'), async () => { await fs.mkdir(path.join(dir, 'exists')); await fs.mkdir(path.join(dir, 'exists')); }, /Could not create the folder .*exists: a file with that name is in the way/],
    [path.join(dir, 'missing.txt'), () => fs.readFile(path.join(dir, 'missing.txt')), /missing\.txt: no such file or folder/],
    [dir, () => fs.writeFile(dir, 'x'), /it is a folder/],
    [path.join(dir, 'exists', 'x'.repeat(300)), () => fs.writeFile(path.join(dir, 'exists', 'x'.repeat(300)), 'x'), /its name is too long/],
  ];
  for (const [file, failing, expected] of cases) {
    const result = await jobs.start('import', 'probe', async () => {
      await failing();
      throw new Error('the probe did not fail');
    }).finished;
    assert.equal(result.ok, false);
    if (!result.ok) {
      assertPlain(result.error.message, file);
      assert.match(result.error.message, expected);
    }
  }
});

test('an existing project folder is refused, and a project opens after a step-by-step create', async (t) => {
  const dir = await tempDir(t);
  const project = await Project.create(path.join(dir, 'deep/er/project'), { classes: ['cell'] });
  assert.equal((await Project.open(project.root)).name, 'project');
});
