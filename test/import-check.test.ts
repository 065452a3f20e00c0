import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
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
import { encodeMaskPng, readMaskPng } from '../app/masks/mask-png.js';
import { processAlive } from '../app/jobs/process-alive.js';
import { forkWorker, type WorkerLauncher } from '../app/jobs/worker-process.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import sharp from 'sharp';
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

/** Pages of `width` x `height` stacked into one multi-page file (lossless TIFF, or PNG for a single page), one value function per page. */
async function writeStack(file: string, width: number, height: number, pages: ((x: number, y: number) => number)[]): Promise<void> {
  const data = new Uint8Array(width * height * pages.length);
  pages.forEach((value, page) => {
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[(page * height + y) * width + x] = value(x, y);
  });
  await fs.mkdir(path.dirname(file), { recursive: true });
  const image = sharp(data, { raw: { width, height: height * pages.length, channels: 1, ...(pages.length > 1 ? { pageHeight: height } : {}) } });
  await (file.endsWith('.png') ? image.png() : image.tiff({ compression: 'lzw' })).toFile(file);
}

test('a multi-page TIFF imported page by page shows one row per page, with the name and verdict each page then gets (issue 14.5)', async (t) => {
  const dir = await tempDir(t);
  const [images, masks] = [path.join(dir, 'images'), path.join(dir, 'masks')];
  const [width, height] = [24, 16];
  // Three pages; the mask's page 2 has the value 7 (not a class of this project), pages 1 and 3 are fine.
  await writeStack(path.join(images, 'stack.tif'), width, height, [(x) => x * 10, (_x, y) => y * 12, (x, y) => (x + y) * 5]);
  await writeStack(path.join(masks, 'stack.tif'), width, height, [(x) => (x > 10 ? 1 : 0), (x) => (x % 3 === 0 ? 7 : 0), (_x, y) => (y > 8 ? 1 : 0)]);
  // A single image whose name is what the stack's page 2 would be called: the page gets another name.
  await writeStack(path.join(images, 'stack_p002.png'), width, height, [(x, y) => x ^ y]);
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  const request = ImportRequest.parse({ project: project.root, images: [images], masks, tiffPages: 'all' });

  const check = await checkImport(project, request);
  const rows = check.files.map((file) => [path.basename(file.image), file.page, file.verdict, file.name]);
  assert.deepEqual(rows.sort((a, b) => String(a[3]).localeCompare(String(b[3]))), [
    ['stack.tif', 0, 'labelled', 'stack_p001'],
    ['stack_p002.png', null, 'unlabelled', 'stack_p002'],
    ['stack.tif', 1, 'unlabelled', 'stack_p002-2'],
    ['stack.tif', 2, 'labelled', 'stack_p003'],
  ]);
  const page = (index: number) => check.files.find((file) => file.image.endsWith('stack.tif') && file.page === index)!;
  const page2 = page(1);
  assert.match(page2.reason!.message, /stack\.tif \(page 2\): imported unlabelled because its mask cannot be used: .*masks\/stack\.tif: values? 7 \(\d+ pixels\).*not (a )?class/);
  assert.deepEqual([page(0).reason, page(2).reason], [null, null]);
  assert.deepEqual([check.images, check.labelled, check.unlabelled, check.masksAdded], [4, 2, 2, 0]);

  // The import does exactly that: the same names, pages, masks and reason.
  const report = await importImages(project, request);
  assert.deepEqual([report.imported, report.labelled, report.unlabelled], [check.images, check.labelled, check.unlabelled]);
  const entries = Object.fromEntries(project.images.map((entry) => [entry.id, entry]));
  assert.deepEqual(Object.keys(entries).sort(), check.files.map((file) => file.name).sort());
  for (const file of check.files) {
    const entry = entries[file.name!]!;
    assert.equal(entry.page, file.page ?? 0, file.name!);
    assert.equal(entry.mask !== null, file.verdict === 'labelled', file.name!);
  }
  assert.deepEqual(
    report.warnings.filter((warning) => warning.code === 'mask_not_used'),
    [page2.reason],
  );
  // The page's own mask made it in: page 3's mask is the mask file's page 3.
  assert.deepEqual([...(await readMaskPng(path.join(project.root, entries['stack_p003']!.mask!))).labels.subarray(0, width * height)], Array.from({ length: width * height }, (_, i) => (Math.floor(i / width) > 8 ? 1 : 0)));

  // First page only: one row for the file, with the note that says so.
  const firstOnly = await checkImport(await Project.create(path.join(dir, 'other'), { classes: ['cell'] }), { ...request, tiffPages: 'first' });
  const stack = firstOnly.files.filter((file) => file.image.endsWith('stack.tif'));
  assert.deepEqual(stack.map((file) => [file.page, file.verdict, file.name]), [[null, 'labelled', 'stack']]);
  assert.match(stack[0]!.notes.map((note) => note.message).join('\n'), /has 3 pages; imported page 1 only/);
});

test('a mask fixed after an import is added to its unlabelled image on the next import; masks already there are kept, and the preview says so (issue 14.5)', async (t) => {
  const dir = await tempDir(t);
  const [images, masks] = [path.join(dir, 'images'), path.join(dir, 'masks')];
  const [width, height] = [20, 14];
  const fixed = (x: number, y: number) => (x + y > 15 ? 1 : 0);
  await writeStack(path.join(images, 'good.png'), width, height, [(x) => x * 9]);
  await writeStack(path.join(masks, 'good.png'), width, height, [(x) => (x > 5 ? 1 : 0)]);
  await writeStack(path.join(images, 'fixme.png'), width, height, [(_x, y) => y * 11]);
  await writeStack(path.join(masks, 'fixme.png'), width - 3, height, [() => 1]);
  await writeStack(path.join(images, 'painted.png'), width, height, [(x, y) => (x * y) % 200]);
  await writeStack(path.join(masks, 'painted.png'), width, height, [() => 7]);
  const root = path.join(dir, 'project');
  const project = await Project.create(root, { classes: ['cell'] });
  const request = ImportRequest.parse({ project: root, images: [images], masks });
  const first = await importImages(project, request);
  assert.deepEqual([first.imported, first.labelled, first.unlabelled], [3, 1, 2]);
  // The user paints one of the unlabelled images, then fixes both mask files.
  const paintedLabels = new Uint8Array(width * height).fill(1);
  await project.writeMask('painted', { width, height, labels: paintedLabels });
  await writeStack(path.join(masks, 'fixme.png'), width, height, [fixed]);
  await writeStack(path.join(masks, 'painted.png'), width, height, [() => 0]);
  const before = await folderDigest(root);

  const check = await checkImport(project, request);
  assert.deepEqual(await folderDigest(root), before, 'the preview wrote nothing');
  const verdicts = Object.fromEntries(check.files.map((file) => [path.basename(file.image), [file.verdict, file.name]]));
  assert.deepEqual(verdicts, { 'fixme.png': ['add-mask', 'fixme'], 'good.png': ['present', 'good'], 'painted.png': ['present', 'painted'] });
  const reason = (name: string) => byName(check.files)[path.join(images, name)]!.reason!.message;
  assert.match(reason('fixme.png'), /fixme\.png: same content as image "fixme" already in the project without a mask: .*masks\/fixme\.png is added to it/);
  assert.match(reason('painted.png'), /painted\.png: same content as image "painted" already in the project, which has a mask of its own: it keeps that mask, and .*masks\/painted\.png is not used/);
  assert.deepEqual([check.images, check.masksAdded], [0, 1]);

  // The import through the app (its own process, the host storing the mask) does exactly that.
  const { services, client } = connect(dir, forkWorker);
  t.after(() => services.close());
  const { jobId } = unwrap(await client.invoke('import.start', request));
  const report = unwrap(
    await new Promise<ReturnType<typeof jobOutcome<'import'>>>((resolve) => {
      const stop = client.on('job.finished', (event) => {
        if (event.jobId !== jobId) return;
        stop();
        resolve(jobOutcome('import', event));
      });
    }),
  );
  assert.deepEqual([report.imported, report.masksAdded, report.alreadyPresent], [0, 1, 2]);
  const reopened = await Project.open(root);
  const entry = reopened.image('fixme');
  assert.deepEqual([entry.mask, entry.status], ['masks/fixme.png', 'labelled']);
  const stored = await readMaskPng(path.join(root, 'masks', 'fixme.png'));
  assert.deepEqual([...stored.labels], Array.from({ length: width * height }, (_, i) => fixed(i % width, Math.floor(i / width))));
  assert.deepEqual([...(await readMaskPng(path.join(root, 'masks', 'painted.png'))).labels], [...paintedLabels], 'the painted mask is kept');
  assert.deepEqual(reopened.image('painted').status, 'labelled');
  const changed = (await folderDigest(root)).filter((line) => !before.includes(line));
  assert.deepEqual(changed.map((line) => line.split(' ')[0]).sort(), ['masks/fixme.png', 'project.json', 'project.json.bak'], 'only the new mask and the index (with its backup) changed');

  // Checked again, it is simply present; and a mask painted meanwhile is never replaced.
  assert.deepEqual(byName((await checkImport(reopened, request)).files)[path.join(images, 'fixme.png')]!.verdict, 'present');
  const painted = await folderDigest(path.join(root, 'masks'));
  assert.equal(await reopened.addMissingMask('painted', await encodeMaskPng({ width, height, labels: new Uint8Array(width * height) }), 'labelled'), false);
  assert.deepEqual(await folderDigest(path.join(root, 'masks')), painted);
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
