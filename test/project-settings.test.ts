// One home each for what used to drift: the recent projects (one list for every start page and the
// desktop menu) and the model in use (stored in the project, so the CLI, browser and desktop agree).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ContractClient } from '../app/contract/client.js';
import { createMemoryTransportPair } from '../app/contract/memory-transport.js';
import { serveContract } from '../app/contract/server.js';
import { createAppServices } from '../app/services/app-services.js';
import { RecentProjects } from '../app/settings/recent-projects.js';
import { parseJson, runCli } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';
import { tinyProject } from './support/tiny-project.js';
import { untrainedRun } from './support/untrained-run.js';

/** Services as browser mode sets them up, with the test's temp folder as the home the page may use. */
function connect(settingsDir: string) {
  const services = createAppServices({ settingsDir, browseHome: path.dirname(settingsDir) });
  const [clientEnd, hostEnd] = createMemoryTransportPair();
  serveContract(services.registry, hostEnd, services.events);
  return { services, client: new ContractClient(clientEnd) };
}

test('recent projects are kept newest first, deduplicated, capped, and written atomically', async (t) => {
  const dir = await tempDir(t);
  const recent = new RecentProjects(dir);
  for (let i = 0; i < 12; i += 1) await recent.add({ path: `/data/p${i}`, name: `p${i}` });
  await recent.add({ path: '/data/p5', name: 'five' });
  const again = await new RecentProjects(dir).list();
  assert.equal(again.length, 10);
  assert.deepEqual(again.slice(0, 3).map((entry) => [entry.path, entry.name]), [['/data/p5', 'five'], ['/data/p11', 'p11'], ['/data/p10', 'p10']]);
  assert.deepEqual(await fs.readdir(dir), ['recent-projects.json'], 'no temp files left');
  await recent.forget('/data/p11');
  assert.deepEqual((await new RecentProjects(dir).list()).slice(0, 2).map((entry) => entry.name), ['five', 'p10']);
});

test('a damaged recent list reads as empty with a warning naming the file; the old desktop list of paths still reads', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'recent-projects.json');
  await fs.writeFile(file, '{ damaged');
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (message: string) => warnings.push(message);
  try {
    assert.deepEqual(await new RecentProjects(dir).list(), []);
  } finally {
    console.warn = original;
  }
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0]!.startsWith(`${file} is damaged`), warnings[0]);
  await fs.writeFile(file, JSON.stringify(['/data/cells', '/data/roads']));
  assert.deepEqual((await new RecentProjects(dir).list()).map((entry) => [entry.path, entry.name]), [['/data/cells', 'cells'], ['/data/roads', 'roads']]);
});

test('opening or creating a project through the contract puts it on the one recent list, which any client reads', async (t) => {
  const dir = await tempDir(t);
  const settings = path.join(dir, 'settings');
  const { client } = connect(settings);
  assert.ok((await client.invoke('project.create', { path: path.join(dir, 'cells'), classes: ['cell'] })).ok);
  assert.ok((await client.invoke('project.create', { path: path.join(dir, 'roads'), classes: ['road'] })).ok);
  assert.ok((await client.invoke('project.open', { path: path.join(dir, 'cells') })).ok);
  // Another host on the same settings folder (the desktop app after browser mode) sees the same list.
  const other = connect(settings).client;
  const listed = await other.invoke('recent.list', {});
  assert.ok(listed.ok);
  assert.deepEqual(listed.value.map((entry) => entry.name), ['cells', 'roads']);
  const forgotten = await other.invoke('recent.forget', { path: path.join(dir, 'cells') });
  assert.deepEqual(forgotten.ok && forgotten.value.map((entry) => entry.name), ['roads']);
});

test('the model in use is stored in the project: it must exist, and every host reads it from project.json', async (t) => {
  const dir = await tempDir(t);
  const { client } = connect(path.join(dir, 'settings'));
  const root = path.join(dir, 'cells');
  const created = await client.invoke('project.create', { path: root, classes: ['cell'] });
  assert.ok(created.ok);
  assert.equal(created.value.modelInUse, null);
  const missing = await client.invoke('project.setModelInUse', { project: root, model: 'no-such-run' });
  assert.equal(!missing.ok && missing.error.code, 'not_found');
  assert.match(!missing.ok ? missing.error.message : '', /has no model "no-such-run"/);

  // An imported model may be chosen (runs: model-export.test.ts).
  await fs.mkdir(path.join(root, 'models'), { recursive: true });
  await fs.writeFile(path.join(root, 'models', 'external.onnx'), 'onnx');
  const chosen = await client.invoke('project.setModelInUse', { project: root, model: 'external' });
  assert.ok(chosen.ok, JSON.stringify(chosen));
  assert.equal(chosen.value.modelInUse, 'external');
  const stored = JSON.parse(await fs.readFile(path.join(root, 'project.json'), 'utf8'));
  assert.equal(stored.modelInUse, 'external');
  const reopened = await connect(path.join(dir, 'settings')).client.invoke('project.open', { path: root });
  assert.equal(reopened.ok && reopened.value.modelInUse, 'external');
  const cleared = await client.invoke('project.setModelInUse', { project: root, model: null });
  assert.equal(cleared.ok && cleared.value.modelInUse, null);
});

test('the CLI exports the model in use chosen through the contract, not the newest run', async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(dir, { count: 4 });
  const chosen = await untrainedRun(project);
  const newest = await untrainedRun(project);
  assert.notEqual(chosen, newest);
  const { client } = connect(path.join(dir, 'settings'));
  const set = await client.invoke('project.setModelInUse', { project: project.root, model: chosen });
  assert.ok(set.ok, JSON.stringify(set));
  const cli = await runCli(['export', project.root, '--format', 'onnx', '--out', path.join(dir, 'out.onnx'), '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(parseJson<{ runId: string }>(cli).runId, chosen);
});
