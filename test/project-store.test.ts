import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AppError } from '../app/contract/errors.js';
import type { ImageEntry } from '../app/contract/schemas.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { writeFileAtomic } from '../app/files/atomic-write.js';
import { migrateProjectData } from '../app/project/migrations.js';
import { Project } from '../app/project/project.js';
import { releaseProjectWrites } from '../app/project/project-lock.js';
import { tempDir } from './support/temp-dir.js';

function entry(id: string, width = 8, height = 6): ImageEntry {
  return {
    id, file: `images/${id}.png`, page: 0, originalName: `${id}.png`, contentHash: id, format: 'png',
    width, height, channels: 1, bitDepth: 8, status: 'unlabelled', split: 'auto', tags: [], mask: null,
    addedAt: new Date(0).toISOString(),
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test('a new project is a folder a user understands, and reopens with the same content', async (t) => {
  const root = path.join(await tempDir(t), 'cells');
  const created = await Project.create(root, { classes: ['cell', 'nucleus'] });
  for (const folder of ['images', 'masks', 'predictions', 'models', 'runs', 'exports']) {
    assert.ok((await fs.stat(path.join(root, folder))).isDirectory(), folder);
  }
  await created.addImages([entry('a'), entry('b')]);
  const reopened = await Project.open(root);
  assert.deepEqual(reopened.summary().classes.map((cls) => cls.name), ['background', 'cell', 'nucleus']);
  assert.deepEqual(reopened.images.map((image) => image.id), ['a', 'b']);
  assert.equal(reopened.summary().counts.unlabelled, 2);
  await rejectsWith(Project.create(root, { classes: ['x'] }), 'conflict', /already holds a project/);
});

test('masks are stored as label PNGs; the previous mask and project.json are kept as .bak', async (t) => {
  const root = await tempDir(t);
  const project = await Project.create(root, { classes: ['cell'] });
  await project.addImages([entry('a', 4, 2)]);
  const first = { width: 4, height: 2, labels: Uint8Array.from([0, 1, 1, 0, 255, 255, 0, 1]) };
  await project.writeMask('a', first);
  await project.writeMask('a', { ...first, labels: new Uint8Array(8).fill(1) });
  assert.deepEqual([...(await readMaskPng(path.join(root, 'masks/a.png'))).labels], [1, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual([...(await readMaskPng(path.join(root, 'masks/a.png.bak'))).labels], [...first.labels]);
  assert.ok(JSON.parse(await fs.readFile(path.join(root, 'project.json.bak'), 'utf8')).images);
  assert.equal(project.image('a').status, 'labelled');
  await rejectsWith(project.writeMask('a', { width: 3, height: 2, labels: new Uint8Array(6) }), 'invalid_mask', /3x2 but the image is 4x2/);
});

test('a corrupt project.json is set aside and the project recovers from the backup', async (t) => {
  const root = await tempDir(t);
  const project = await Project.create(root, { classes: ['cell'] });
  await project.addImages([entry('a')]);
  await project.addImages([entry('b')]); // the .bak now holds the version with "a"
  await fs.writeFile(path.join(root, 'project.json'), '{"schemaVersion": 1, "name": "trunc');

  const recovered = await Project.open(root);
  const summary = recovered.summary();
  assert.equal(summary.recovery?.from, 'project.json.bak');
  assert.match(summary.recovery?.problem ?? '', /not valid JSON/);
  assert.deepEqual(recovered.images.map((image) => image.id), ['a']);
  const corrupt = await fs.readFile(path.join(root, summary.recovery!.corruptCopy), 'utf8');
  assert.equal(corrupt, '{"schemaVersion": 1, "name": "trunc', 'the damaged file is kept for the user');
  // The recovered content was written back, so the next open is clean.
  assert.equal((await Project.open(root)).recovery, null);
});

test('when project.json and its backup are both unusable the error names the file and both problems', async (t) => {
  const root = await tempDir(t);
  await Project.create(root, { classes: ['cell'] });
  await fs.writeFile(path.join(root, 'project.json'), '');
  await fs.writeFile(path.join(root, 'project.json.bak'), '{"schemaVersion":1,"name":"x","createdAt":"","classes":[],"settings":{},"images":[]}');
  await rejectsWith(Project.open(root), 'invalid_project', /project\.json: the file is empty\. The backup project\.json\.bak cannot be used either \(classes: /);
  await rejectsWith(Project.open(path.join(root, 'nowhere')), 'not_found', /not a U-Net Studio project/);
});

test('schema versions: newer files are refused, older ones migrate step by step', async (t) => {
  const root = await tempDir(t);
  await Project.create(root, { classes: ['cell'] });
  const file = path.join(root, 'project.json');
  const data = JSON.parse(await fs.readFile(file, 'utf8'));
  await fs.writeFile(file, JSON.stringify({ ...data, schemaVersion: 9 }));
  await rejectsWith(Project.open(root), 'invalid_project', /newer U-Net Studio \(schema 9; this version reads up to 1\)/);

  const migrations = [
    { from: 1, migrate: (d: Record<string, unknown>) => ({ ...d, labels: d.classes }) },
    { from: 2, migrate: (d: Record<string, unknown>) => ({ ...d, note: `had ${(d.labels as unknown[]).length} labels` }) },
  ];
  const migrated = migrateProjectData('p.json', { schemaVersion: 1, classes: [1, 2] }, migrations, 3);
  assert.deepEqual(migrated, { data: { schemaVersion: 3, classes: [1, 2], labels: [1, 2], note: 'had 2 labels' }, migratedFrom: 1 });
  assert.throws(() => migrateProjectData('p.json', { schemaVersion: 0 }, migrations, 3), /no migration from schema 0/);
});

test('a write that fails (disk full) leaves the old file and no temp files', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount a 64 KiB tmpfs');
  const mount = await tempDir(t);
  const { execFileSync } = await import('node:child_process');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
  try {
    const file = path.join(mount, 'project.json');
    await writeFileAtomic(file, 'old content');
    await assert.rejects(writeFileAtomic(file, Buffer.alloc(1024 * 1024, 1)), /Could not save .*project\.json: the disk is full\. The previous version is unchanged\./);
    assert.equal(await fs.readFile(file, 'utf8'), 'old content');
    assert.deepEqual(await fs.readdir(mount), ['project.json']);
  } finally {
    execFileSync('umount', [mount]);
  }
});

test('SIGKILL in the middle of a burst of writes leaves every file old or new, never torn', async (t) => {
  const root = await tempDir(t);
  const project = await Project.create(root, { classes: ['cell'] });
  await project.addImages(['a', 'b', 'c'].map((id) => entry(id, 96, 64)));
  // The writer is the child process: give up this process's write lock first.
  await releaseProjectWrites(root);
  const burst = fileURLToPath(new URL('./support/write-burst.js', import.meta.url));

  for (const delayMs of [40, 90, 150, 230, 310]) {
    const child = spawn(process.execPath, [burst, root], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const reopened = await Project.open(root);
    assert.equal(reopened.recovery, null, 'project.json itself must be intact, not recovered');
    for (const image of reopened.images) {
      if (!image.mask) continue;
      const { labels } = await readMaskPng(path.join(root, image.mask));
      const values = new Set(labels);
      assert.equal(values.size, 1, `${image.mask} mixes two versions`);
    }
  }
  const leftovers = (await fs.readdir(path.join(root, 'masks'))).filter((name) => name.endsWith('.tmp'));
  // A killed writer may leave a temp file behind; it is never mistaken for a mask.
  for (const name of leftovers) assert.match(name, /^\..*\.tmp$/);
});

test('a second process cannot write a project another one is changing; a stale lock is taken over', async (t) => {
  const { runCli } = await import('./support/run-cli.js');
  const root = path.join(await tempDir(t), 'p');
  const project = await Project.create(root, { classes: ['cell'] });
  t.after(() => releaseProjectWrites(root));
  const images = path.join(path.dirname(root), 'imgs');
  await fs.mkdir(images);
  const sharp = (await import('sharp')).default;
  await sharp(new Uint8Array(64).fill(9), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(path.join(images, 'a.png'));

  const refused = await runCli(['import', root, '--images', images]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`being changed by another U-Net Studio process \\(pid ${process.pid}`));
  assert.equal((await Project.open(root)).images.length, 0);

  await releaseProjectWrites(root);
  // A lock whose process has gone (a crash) does not block anyone.
  await fs.writeFile(path.join(root, '.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, hostname: (await import('node:os')).hostname(), since: 'then' }));
  const accepted = await runCli(['import', root, '--images', images]);
  assert.equal(accepted.code, 0, accepted.stderr);
  assert.equal((await Project.open(root)).images.length, 1);
  // The first process's index is now out of date: its next save is refused instead of undoing the import.
  await assert.rejects(project.setClasses([...project.classes]), /was changed by another program since it was opened here; nothing was overwritten/);
  assert.equal((await Project.open(root)).images.length, 1);
});
