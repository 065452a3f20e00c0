import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { RequestChannelName } from '../app/contract/channels.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { prepareRun } from '../app/engine/training/prepare-run.js';
import { train } from '../app/engine/training/trainer.js';
import { TrainRequest } from '../app/contract/training.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import { electronDialogs, type DialogApi } from '../main/dialogs.js';
import { CELLS_MODEL } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';
import { TINY_SETTINGS, tinyProject } from './support/tiny-project.js';

const noSignal = { signal: new AbortController().signal };

/** Every page request that names a path outside what the session was granted, and the field holding it. */
function requestsNaming(target: string, project: string): [RequestChannelName, Record<string, unknown>][] {
  return [
    ['project.create', { path: path.join(target, 'new-project'), classes: ['cell'] }],
    ['import.check', { project, images: [target] }],
    ['import.check', { project, images: [path.join(project, 'images')], masks: target }],
    ['import.start', { project, images: [path.join(project, 'images')], masks: target }],
    ['dataset.export', { project, out: path.join(target, 'dataset') }],
    ['model.export', { project, format: 'onnx', out: path.join(target, 'model.onnx') }],
    ['segment.start', { model: CELLS_MODEL, inputs: [target], output: path.join(project, 'exports', 'out') }],
    ['segment.start', { model: CELLS_MODEL, inputs: [path.join(project, 'images')], output: path.join(target, 'out') }],
    ['models.import', { project, file: path.join(target, 'model.onnx'), classes: ['cell'], normalisation: 'unit' }],
    ['demo.create', { folder: path.join(target, 'demo') }],
    ['fs.grant', { path: target }],
  ];
}

test('browser mode: page paths must lie in the home folder (not its hidden folders), an open project or an --allow folder (issue 18.2)', async (t) => {
  const base = await tempDir(t);
  const home = path.join(base, 'home');
  const outside = path.join(base, 'elsewhere');
  await fs.mkdir(path.join(home, '.ssh'), { recursive: true });
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, 'model.onnx'), await fs.readFile(CELLS_MODEL));
  await fs.symlink(outside, path.join(home, 'link-out'));
  const project = await Project.create(path.join(base, 'opened-project'), { classes: ['cell'] });
  const services = createAppServices({ browseHome: home });
  t.after(() => services.close());
  const call = (channel: RequestChannelName, payload: unknown) => services.registry.dispatch(channel, payload, noSignal);
  assert.equal((await call('project.open', { path: project.root })).ok, true, 'any existing project opens, and its folder is granted');

  for (const target of [outside, path.join(home, '.ssh'), path.join(home, 'link-out')]) {
    for (const [channel, payload] of requestsNaming(target, project.root)) {
      const answer = await call(channel, payload);
      assert.equal(answer.ok, false, `${channel} naming ${target}`);
      if (!answer.ok) {
        assert.equal(answer.error.code, 'unauthorized', `${channel}: ${answer.error.message}`);
        assert.match(answer.error.message, /is outside the folders this window may use/);
      }
    }
  }
  assert.deepEqual(await fs.readdir(outside), ['model.onnx'], 'nothing was written outside');

  // Relative paths are refused with the absolute path suggested.
  const relative = await call('import.check', { project: project.root, images: ['pictures'] });
  assert.ok(!relative.ok && relative.error.code === 'invalid_input');
  if (!relative.ok) assert.match(relative.error.message, new RegExp(`"pictures" is not a full path.*e\\.g\\. ${path.join(home, 'pictures')}`));

  // Inside the home folder, and inside the open project, paths are accepted.
  const data = await generateSynthetic({ outDir: path.join(home, 'data'), count: 2, width: 32, height: 32 });
  assert.equal((await call('import.check', { project: project.root, images: [data.imagesDir] })).ok, true);
  assert.equal((await call('fs.grant', { path: path.join(project.root, 'exports') })).ok, true);

  // A folder the host was started with (--allow) counts too.
  const allowing = createAppServices({ grants: { home, roots: [outside] } });
  t.after(() => allowing.close());
  assert.equal((await allowing.registry.dispatch('import.check', { project: project.root, images: [outside] }, noSignal)).ok, true);
});

test('desktop: only folders picked in a native dialog or confirmed in one are granted (issue 18.2)', async (t) => {
  const dir = await tempDir(t);
  const picked = path.join(dir, 'picked');
  const typed = path.join(dir, 'typed');
  await Promise.all([picked, typed].map((folder) => fs.mkdir(folder)));
  let confirm = 1;
  const dialog: DialogApi = {
    showOpenDialog: (async () => ({ canceled: false, filePaths: [picked] })) as unknown as DialogApi['showOpenDialog'],
    showSaveDialog: (async () => ({ canceled: true, filePath: '' })) as unknown as DialogApi['showSaveDialog'],
    showMessageBox: (async () => ({ response: confirm, checkboxChecked: false })) as unknown as DialogApi['showMessageBox'],
  };
  const services = createAppServices({ grants: { home: null }, dialogs: electronDialogs(dialog, () => null) });
  t.after(() => services.close());
  const call = (channel: RequestChannelName, payload: unknown) => services.registry.dispatch(channel, payload, noSignal);
  const create = (folder: string) => call('project.create', { path: path.join(folder, 'p'), classes: ['cell'] });

  assert.equal((await create(picked)).ok, false, 'nothing is granted before a dialog');
  assert.equal((await call('dialog.pickFolder', {})).ok, true);
  assert.equal((await create(picked)).ok, true, 'a picked folder is granted');

  const refused = await call('fs.grant', { path: typed });
  assert.ok(!refused.ok && refused.error.code === 'unauthorized', 'Cancel in the confirmation refuses');
  assert.equal((await create(typed)).ok, false);
  confirm = 0;
  assert.equal((await call('fs.grant', { path: typed })).ok, true);
  assert.equal((await create(typed)).ok, true, 'a typed path confirmed in the native dialog is granted');
});

test('model export never replaces an existing file without the overwrite flag (issue 18.2)', async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(dir, { count: 6 });
  const { run } = await prepareRun(project, TrainRequest.parse({ project: project.root, preset: 'fast', settings: { ...TINY_SETTINGS, epochs: 1 } }));
  await train({ project, run, resume: false, signal: new AbortController().signal });
  const out = path.join(dir, 'model.onnx');
  await fs.writeFile(out, 'my own file');
  const services = createAppServices({ browseHome: dir });
  t.after(() => services.close());
  const refused = await services.registry.dispatch('model.export', { project: project.root, format: 'onnx', out }, noSignal);
  assert.ok(!refused.ok && refused.error.code === 'conflict');
  if (!refused.ok) assert.match(refused.error.message, /model\.onnx exists already; nothing was written\. Export again with overwrite/);
  assert.equal(await fs.readFile(out, 'utf8'), 'my own file');
  assert.deepEqual((await fs.readdir(dir)).filter((name) => name.startsWith('model.')), ['model.onnx'], 'no model card written either');

  const replaced = await services.registry.dispatch('model.export', { project: project.root, format: 'onnx', out, overwrite: true }, noSignal);
  assert.equal(replaced.ok, true);
  assert.notEqual(await fs.readFile(out, 'utf8'), 'my own file');
});
