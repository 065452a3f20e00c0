import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ContractClient } from '../app/contract/client.js';
import { unwrap } from '../app/contract/envelope.js';
import type { CheckedFile } from '../app/contract/import-check.js';
import { jobOutcome } from '../app/contract/job-results.js';
import { createMemoryTransportPair } from '../app/contract/memory-transport.js';
import { ImportRequest, type JobProgress } from '../app/contract/schemas.js';
import { serveContract } from '../app/contract/server.js';
import { checkImport } from '../app/dataset/check-import.js';
import { importImages } from '../app/dataset/import-images.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { processAlive } from '../app/jobs/process-alive.js';
import { forkWorker, type WorkerLauncher } from '../app/jobs/worker-process.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import { tempDir } from './support/temp-dir.js';
import { folderDigest, writeTroubledFolder } from './support/troubled-folder.js';

const byName = (files: CheckedFile[]) => Object.fromEntries(files.map((file) => [file.image, file]));

test('the import preview decodes every file and says what the import will do, copying nothing (issue 14.5)', async (t) => {
  const dir = await tempDir(t);
  const { images, masks } = await writeTroubledFolder(dir);
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  const request = ImportRequest.parse({ project: project.root, images: [images], masks, recursive: true });
  const before = await folderDigest(project.root);

  const check = await checkImport(project, request);
  assert.deepEqual(await folderDigest(project.root), before, 'the preview wrote nothing into the project');
  const files = byName(check.files);
  const at = (name: string) => files[path.join(images, name)]!;
  const verdicts = Object.fromEntries(check.files.map((file) => [path.relative(images, file.image), file.verdict]));
  assert.deepEqual(verdicts, {
    'cell.png': 'unlabelled',
    'cell.tif': 'unlabelled',
    'corruptmask.png': 'unlabelled',
    'good.png': 'labelled',
    'notes.png': 'skipped',
    'plain.png': 'unlabelled',
    'scan.bmp': 'skipped',
    'sub/cell.png': 'unlabelled',
    'truncated.png': 'skipped',
    'value7.png': 'unlabelled',
    'wrongsize.png': 'unlabelled',
    'readme.txt': 'skipped',
  });
  // Why each is unlabelled or skipped, in plain words naming the file.
  assert.equal(at('plain.png').reason, null, 'no mask found is no problem');
  assert.match(at('wrongsize.png').reason!.message, /wrongsize\.png: imported unlabelled because its mask cannot be used: .*masks\/wrongsize\.png.*30x24.*32x24/);
  assert.match(at('value7.png').reason!.message, /value7\.png: imported unlabelled because its mask cannot be used: .*masks\/value7\.png: values? 7 \(\d+ pixels\).*not (a )?class/);
  assert.match(at('corruptmask.png').reason!.message, /corruptmask\.png: imported unlabelled because its mask cannot be used: .*masks\/corruptmask\.png.*(truncated|corrupt)/i);
  assert.match(at('truncated.png').reason!.message, /truncated\.png.*(truncated|corrupt)/i);
  assert.match(at('notes.png').reason!.message, /notes\.png: not an image/);
  assert.match(at('scan.bmp').reason!.message, /scan\.bmp: BMP images are not supported/);
  assert.match(at('readme.txt').reason!.message, /readme\.txt: not an image file/);
  // Names that clash are flagged, and each shows the id it will get.
  assert.deepEqual([at('cell.png').name, at('cell.tif').name, at('sub/cell.png').name], ['cell', 'cell-2', 'cell-3']);
  assert.deepEqual(at('cell.tif').sameName, [path.join(images, 'cell.png'), path.join(images, 'sub/cell.png')]);
  assert.deepEqual(at('good.png').sameName, []);
  assert.deepEqual([check.images, check.labelled, check.unlabelled], [8, 1, 7]);

  // The import then does exactly that.
  const report = await importImages(project, request);
  assert.deepEqual([report.imported, report.labelled, report.unlabelled], [check.images, check.labelled, check.unlabelled]);
  const skipped = check.files.filter((file) => file.verdict === 'skipped').map((file) => file.image).sort();
  assert.deepEqual(report.skipped.map((problem) => problem.file).sort(), skipped);
  for (const file of check.files.filter((row) => row.name)) {
    const entry = project.images.find((image) => image.id === file.name);
    assert.ok(entry, `${file.image} imported as ${file.name}`);
    assert.equal(entry.mask !== null, file.verdict === 'labelled', file.image);
  }
  const unlabelledBecause = report.warnings.filter((warning) => warning.code === 'mask_not_used');
  assert.equal(unlabelledBecause.length, 3);
  for (const name of ['corruptmask.png', 'value7.png', 'wrongsize.png']) {
    assert.deepEqual(unlabelledBecause.find((warning) => warning.file === at(name).image), at(name).reason, `the import gives the preview's reason for ${name}`);
  }

  // Checked again, everything imported is now already in the project.
  const again = await checkImport(project, request);
  assert.equal(again.images, 0);
  assert.deepEqual(again.files.filter((file) => file.verdict === 'present').length, 8);
  assert.match(byName(again.files)[path.join(images, 'good.png')]!.reason!.message, /good\.png: same content as image "good" already in the project/);
});

/** Services as browser mode sets them up, with `home` as the folder the page may use. */
function connect(home: string, launchWorker: WorkerLauncher) {
  const services = createAppServices({ browseHome: home, launchWorker });
  const [clientEnd, hostEnd] = createMemoryTransportPair();
  serveContract(services.registry, hostEnd, services.events);
  return { services, client: new ContractClient(clientEnd) };
}

test('the import preview runs as a job in its own process, with progress, and Cancel stops that process (issue 14.5)', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 120, width: 128, height: 128 });
  const pids: number[] = [];
  const { services, client } = connect(dir, (module) => {
    const child = forkWorker(module);
    pids.push(child.pid()!);
    return child;
  });
  t.after(() => services.close());
  const root = path.join(dir, 'p');
  unwrap(await client.invoke('project.create', { path: root, classes: ['cell'] }));
  const before = await folderDigest(root);
  const finished = (jobId: string) =>
    new Promise<ReturnType<typeof jobOutcome<'import-check'>>>((resolve) => {
      const stop = client.on('job.finished', (event) => {
        if (event.jobId !== jobId) return;
        stop();
        resolve(jobOutcome('import-check', event));
      });
    });

  // Whole: every file checked, with progress.
  const small = await generateSynthetic({ outDir: path.join(dir, 'small'), count: 4, width: 32, height: 32 });
  const whole = unwrap(await client.invoke('import.check', { project: root, images: [small.imagesDir], masks: small.masksDir }));
  const check = unwrap(await finished(whole.jobId));
  assert.deepEqual([check.images, check.labelled, check.files.length], [4, 4, 4]);

  // Cancelled at its first progress: it ends before checking everything, and its process is gone.
  const progress: JobProgress[] = [];
  const firstProgress = new Promise<void>((resolve) => {
    client.on('job.progress', (event) => {
      if (event.kind !== 'import-check') return;
      progress.push(event);
      if (event.done >= 1) resolve();
    });
  });
  const { jobId } = unwrap(await client.invoke('import.check', { project: root, images: [data.imagesDir], masks: data.masksDir }));
  const done = finished(jobId);
  await firstProgress;
  assert.deepEqual(unwrap(await client.invoke('jobs.cancel', { jobId })), { cancelled: true });
  const outcome = await done;
  assert.ok(!outcome.ok && outcome.error.code === 'cancelled', JSON.stringify(outcome));
  assert.ok(progress.every((event) => event.total === 120) && progress.at(-1)!.done < 120, `stopped at ${progress.at(-1)!.done} of 120`);
  const pid = pids.at(-1)!;
  for (let waited = 0; processAlive(pid) && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(processAlive(pid), false, 'the preview process has ended');
  assert.deepEqual(await folderDigest(root), before, 'neither preview wrote into the project');
});
