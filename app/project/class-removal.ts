import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../contract/errors.js';
import type { RemovedPixels } from '../contract/project-edits.js';
import { ClassDef, IGNORE_LABEL, projectPath } from '../contract/schemas.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { readRegularText } from '../files/regular-file.js';
import { encodeMaskPng, readMaskPng } from '../masks/mask-png.js';
import { predictionRelativePath } from './project-layout.js';
import type { Project } from './project.js';

/**
 * Removing a class renumbers every later class, so every mask and prediction holding the class or a
 * later one is rewritten. To survive a crash at any point the change is made in two phases: the new
 * files are first written beside the old ones (`<file>.class-change`), then a journal names them and
 * the new class list, then project.json takes the new classes (the commit point), and only then are
 * the new files renamed over the old. Whoever takes the project's write lock next finishes an
 * interrupted change (project.json has the journal's classes: rename what is left) or drops it
 * (it has not: remove the new files), so masks and class list always agree.
 */
const JOURNAL = '.class-change.json';
const STAGED = '.class-change';
const MASK_FOLDERS = ['masks', 'predictions'] as const;

/** Read back from the project folder, so held to paths inside its mask folders like project.json's are. */
const Journal = z.object({ classes: z.array(ClassDef), files: z.array(z.union([projectPath('masks'), projectPath('predictions')])) });

/** Old label -> new label once `removed` is gone (255 and labels past the classes stay as they are). */
export function removalLookup(classCount: number, removed: number, pixels: RemovedPixels, forPrediction = false): Uint8Array {
  const lookup = new Uint8Array(256);
  for (let label = 0; label < 256; label++) lookup[label] = label > removed && label < classCount ? label - 1 : label;
  // A prediction has no unlabelled pixels: there the removed class becomes background.
  lookup[removed] = pixels.to === 'class' ? lookup[pixels.classId]! : pixels.to === 'unlabelled' && !forPrediction ? IGNORE_LABEL : 0;
  return lookup;
}

/** Removes class `classId` from the project, rewriting its pixels in every mask as `pixels` says; returns how many files were rewritten. */
export async function removeClass(project: Project, classId: number, pixels: RemovedPixels): Promise<number> {
  const classes = project.classes;
  const removed = classes[classId];
  if (classId === 0 || !removed) throw new AppError('invalid_input', `The project has no class ${classId} to remove (background, class 0, always stays).`);
  if (classes.length <= 2) throw new AppError('invalid_input', `"${removed.name}" is the project's only class besides background; add another before removing it.`);
  if (pixels.to === 'class' && (pixels.classId === classId || !classes[pixels.classId])) {
    throw new AppError('invalid_input', `Pixels of "${removed.name}" cannot be merged into class ${pixels.classId}: choose another existing class.`);
  }
  const next = classes.filter((entry) => entry.id !== classId).map((entry, id) => ({ ...entry, id }));
  await project.claimWrites();

  const staged: string[] = [];
  try {
    for (const image of project.images) {
      const files = [...(image.mask ? [{ relative: image.mask, prediction: false }] : []), { relative: predictionRelativePath(image.id), prediction: true }];
      for (const { relative, prediction } of files) {
        const file = await project.resolve(relative);
        const map = await readMaskPng(file).catch((err: unknown) => {
          if (prediction && err instanceof AppError && err.code === 'not_found') return null; // most images have no prediction
          throw err;
        });
        if (!map || !map.labels.some((label) => label >= classId && label < classes.length)) continue;
        const lookup = removalLookup(classes.length, classId, pixels, prediction);
        for (let index = 0; index < map.labels.length; index++) map.labels[index] = lookup[map.labels[index]!]!;
        await writeFileAtomic(file + STAGED, await encodeMaskPng(map));
        staged.push(relative);
      }
    }
    await writeFileAtomic(path.join(project.root, JOURNAL), JSON.stringify({ classes: next, files: staged }));
    await project.commitClassRemoval(next);
  } catch (err) {
    await dropStaged(project.root, staged);
    throw err;
  }
  await renameStaged(project.root, staged);
  await fs.rm(path.join(project.root, JOURNAL), { force: true });
  return staged.length;
}

/** A class removal was interrupted (its journal is still there). */
export async function hasInterruptedClassRemoval(root: string): Promise<boolean> {
  return (await fs.stat(path.join(root, JOURNAL)).catch(() => null)) !== null;
}

/**
 * Finishes or drops a class removal a crash interrupted (see the top of this file); `classes` are
 * project.json's on disk. Also removes new files written before the journal was.
 */
export async function settleClassRemoval(root: string, classes: readonly ClassDef[]): Promise<void> {
  const journalFile = path.join(root, JOURNAL);
  const text = await readRegularText(journalFile).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'not_found') return null;
    throw err;
  });
  const journal = text === null ? null : parseJournal(text);
  if (journal && JSON.stringify(journal.classes) === JSON.stringify(classes)) await renameStaged(root, journal.files);
  for (const folder of MASK_FOLDERS) {
    const names = await fs.readdir(path.join(root, folder)).catch(() => []);
    await dropStaged(root, names.filter((name) => name.endsWith(STAGED)).map((name) => `${folder}/${name.slice(0, -STAGED.length)}`));
  }
  await fs.rm(journalFile, { force: true });
}

/** The journal is written atomically, so it is whole; anything else in its place was not written here and commits nothing. */
function parseJournal(text: string): z.infer<typeof Journal> | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null; // not our journal: the change it would describe never committed
  }
  const parsed = Journal.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

async function renameStaged(root: string, files: readonly string[]): Promise<void> {
  for (const relative of files) {
    const file = path.join(root, ...relative.split('/'));
    await fs.rename(file + STAGED, file).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // renamed before the interruption
    });
  }
}

async function dropStaged(root: string, files: readonly string[]): Promise<void> {
  for (const relative of files) await fs.rm(path.join(root, ...relative.split('/')) + STAGED, { force: true });
}
