import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ImportRequest } from '../app/contract/schemas.js';
import { SegmentRequest } from '../app/contract/segmentation.js';
import { importImages } from '../app/dataset/import-images.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { checkRegularFile, readRegularFile } from '../app/files/regular-file.js';
import { segmentBatch } from '../app/inference/batch-segment.js';
import { Project } from '../app/project/project.js';
import { runCli } from './support/run-cli.js';
import { CELLS_MODEL } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';

/** Settles or says it did not: a hang must fail the test, not stall the suite. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  return Promise.race([work, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`did not finish within ${ms / 1000} s`)), ms).unref())]);
}

/** A folder of 3 good images plus a FIFO, a link to /dev/zero and a folder, each named like an image. */
async function specialCorpus(dir: string): Promise<{ images: string; special: Record<string, RegExp> }> {
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: 3, width: 64, height: 64 });
  execFileSync('mkfifo', [path.join(data.imagesDir, 'pipe.png')]);
  await fs.symlink('/dev/zero', path.join(data.imagesDir, 'zero.png'));
  await fs.mkdir(path.join(data.imagesDir, 'folder.png'));
  return {
    images: data.imagesDir,
    special: {
      'pipe.png': /pipe\.png: is a named pipe \(FIFO\), not a regular file/,
      'zero.png': /zero\.png: links to \/dev\/zero, which is a device, not a regular file/,
      'folder.png': /folder\.png: is a folder, not an image file/,
    },
  };
}

function assertEachNamed(problems: readonly { file: string; message: string }[], special: Record<string, RegExp>): void {
  const byName = new Map(problems.map((problem) => [path.basename(problem.file), problem.message]));
  for (const [name, expected] of Object.entries(special)) assert.match(byName.get(name) ?? `${name} not reported`, expected);
}

test('import and segment a folder with a FIFO, a /dev/zero link and a folder named like images: each is named and skipped within 30 s (issue 18.3)', async (t) => {
  const dir = await tempDir(t);
  const { images, special } = await specialCorpus(dir);
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });

  const imported = await within(30_000, importImages(project, ImportRequest.parse({ project: project.root, images: [images] })));
  assert.equal(imported.imported, 3);
  assertEachNamed(imported.skipped, special);

  const segmented = await within(
    30_000,
    segmentBatch(SegmentRequest.parse({ model: CELLS_MODEL, classes: ['cell'], normalisation: 'unit', inputs: [images], output: path.join(dir, 'out'), tile: 64 })),
  );
  assert.equal(segmented.segmented.length, 3);
  assertEachNamed(segmented.skipped, special);

  // Named directly on the command line, the FIFO and the link are refused the same way.
  const other = path.join(dir, 'other');
  assert.equal((await runCli(['init', other, '--classes', 'cell'])).code, 0);
  const cli = await within(30_000, runCli(['import', other, '--images', path.join(images, 'pipe.png'), path.join(images, 'zero.png')]));
  assert.match(cli.stderr, special['pipe.png']!);
  assert.match(cli.stderr, special['zero.png']!);
});

test('every reader checks the file first: regular files only, not empty, within the size limit (issue 18.3)', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'data.bin');
  await fs.writeFile(file, Buffer.alloc(100, 7));
  assert.equal(await checkRegularFile(file, { maxBytes: 100 }), 100);
  assert.deepEqual(await readRegularFile(file, { maxBytes: 100 }), Buffer.alloc(100, 7));
  await assert.rejects(readRegularFile(file, { maxBytes: 99 }), /data\.bin: 100 bytes is over the limit of 99 bytes/);
  await fs.symlink(file, path.join(dir, 'link.bin'));
  assert.equal((await readRegularFile(path.join(dir, 'link.bin'), { maxBytes: 100 })).length, 100);
  await fs.writeFile(path.join(dir, 'empty.bin'), '');
  await assert.rejects(checkRegularFile(path.join(dir, 'empty.bin'), { maxBytes: 1 }), /empty file \(0 bytes\)/);
  await fs.symlink(path.join(dir, 'gone'), path.join(dir, 'dangling.bin'));
  await assert.rejects(checkRegularFile(path.join(dir, 'dangling.bin'), { maxBytes: 1 }), /dangling\.bin: a link to something that does not exist/);

  // project.json and a model description can be pipes too; opening them must not hang.
  const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
  await fs.rm(path.join(project.root, 'project.json'));
  execFileSync('mkfifo', [path.join(project.root, 'project.json')]);
  await assert.rejects(within(5000, Project.open(project.root)), /project\.json: is a named pipe \(FIFO\)/);
});
