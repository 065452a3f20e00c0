import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../contract/errors.js';
import type { TrashedImage } from '../contract/project-edits.js';
import { ImageEntry } from '../contract/schemas.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { makeFolder } from '../files/make-folder.js';
import { readRegularText } from '../files/regular-file.js';
import { THUMBNAIL_FOLDER, TRASH_FOLDER, isThumbnailOf, predictionRelativePath, resolveInProject } from './project-layout.js';
import type { Project } from './project.js';

/**
 * Deleting an image moves its file, mask (and the mask's backup) and prediction into
 * `.trash/<key>/` with the index entry beside them, so Undo can put everything back while the
 * project is open; the trash is emptied when the project is closed (the host closes, or the next
 * process to write the project finds it). Crash safety: a delete moves the files first and removes
 * the entry from project.json last; a restore puts the entry back first and moves the files last.
 * So a trash item whose entry is still (or again) in project.json was interrupted, and whoever takes
 * the write lock next moves its files back (settleTrash): nothing is lost either way.
 */
const ITEM_FILE = 'item.json';

const TrashItem = z.object({ entry: ImageEntry, deletedAt: z.string() });
type TrashItem = z.infer<typeof TrashItem>;

/** The files of an image that go to the trash with it (those that exist). */
function filesOf(entry: ImageEntry): string[] {
  return [entry.file, ...(entry.mask ? [entry.mask, `${entry.mask}.bak`] : []), predictionRelativePath(entry.id)];
}

/** Moves these images (and their masks and predictions) to the project's trash; one save of project.json. */
export async function trashImages(project: Project, ids: readonly string[]): Promise<TrashedImage[]> {
  const entries = [...new Set(ids)].map((id) => project.image(id));
  await project.claimWrites();
  const trashed: TrashedImage[] = [];
  for (const entry of entries) {
    const deletedAt = new Date().toISOString();
    const key = `${Date.now().toString(36)}-${entry.id}`;
    const folder = await project.resolve(`${TRASH_FOLDER}/${key}`);
    await makeFolder(folder);
    await writeFileAtomic(path.join(folder, ITEM_FILE), JSON.stringify({ entry, deletedAt } satisfies TrashItem));
    for (const relative of filesOf(entry)) await moveIfPresent(await project.resolve(relative), await project.resolve(`${TRASH_FOLDER}/${key}/${relative}`));
    await removeThumbnails(project, entry.id);
    trashed.push({ key, id: entry.id, originalName: entry.originalName, hadMask: entry.mask !== null, deletedAt });
  }
  try {
    await project.removeImages(entries.map((entry) => entry.id));
  } catch (err) {
    // project.json still lists them (it could not be saved): their files go back where it expects them.
    for (const { key } of trashed) {
      const folder = await project.resolve(`${TRASH_FOLDER}/${key}`);
      const item = await readItem(folder);
      if (item) await moveBack(project.root, folder, item.entry);
    }
    throw err;
  }
  return trashed;
}

/** What the trash holds, oldest first. */
export async function listTrash(project: Project): Promise<TrashedImage[]> {
  const items = await readItems(await project.resolve(TRASH_FOLDER));
  return items
    .filter((item): item is { key: string; item: TrashItem } => item.item !== null)
    .map(({ key, item }) => ({ key, id: item.entry.id, originalName: item.entry.originalName, hadMask: item.entry.mask !== null, deletedAt: item.deletedAt }))
    .sort((a, b) => a.deletedAt.localeCompare(b.deletedAt));
}

/** Puts trashed images back as they were (index entry, image, mask, prediction). */
export async function restoreImages(project: Project, keys: readonly string[]): Promise<ImageEntry[]> {
  await project.claimWrites();
  const restoring: Array<{ folder: string; entry: ImageEntry }> = [];
  for (const key of new Set(keys)) {
    const folder = await project.resolve(`${TRASH_FOLDER}/${key}`);
    const item = await readItem(folder);
    if (!item) throw new AppError('not_found', `The trash of ${project.name} holds no deleted image "${key}" (it is emptied when the project is closed).`, { key });
    if (project.hasImage(item.entry.id)) {
      throw new AppError('conflict', `${item.entry.originalName} cannot be restored: an image with its id "${item.entry.id}" was added to the project since it was deleted.`, { key });
    }
    restoring.push({ folder, entry: item.entry });
  }
  await project.addImages(restoring.map(({ entry }) => entry));
  for (const { folder, entry } of restoring) await moveBack(project.root, folder, entry);
  return restoring.map(({ entry }) => structuredClone(entry));
}

/** Empties the trash: the deletes become final (the project is being closed). */
export async function emptyTrash(root: string): Promise<void> {
  const trash = await resolveInProject(root, TRASH_FOLDER).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'not_found') return null; // the project folder itself is gone
    throw err;
  });
  if (trash) await fs.rm(trash, { recursive: true, force: true });
}

/**
 * After a crash: trash items whose image is in project.json (`indexed`, read from disk) were
 * interrupted and go back; the rest were deleted in a session now over, and are emptied.
 */
export async function settleTrash(root: string, indexed: readonly ImageEntry[]): Promise<void> {
  const byId = new Map(indexed.map((entry) => [entry.id, entry]));
  const trash = await resolveInProject(root, TRASH_FOLDER);
  for (const { key, item } of await readItems(trash)) {
    const folder = path.join(trash, key);
    const current = item && byId.get(item.entry.id);
    // The same image (not a later one that took its id): put its files back where the index expects them.
    if (item && current && current.file === item.entry.file && current.contentHash === item.entry.contentHash) await moveBack(root, folder, item.entry);
    else await fs.rm(folder, { recursive: true, force: true });
  }
}

async function moveBack(root: string, folder: string, entry: ImageEntry): Promise<void> {
  for (const relative of filesOf(entry)) {
    const target = path.join(root, ...relative.split('/'));
    // A file already in place was moved back before an interruption; it is never overwritten.
    if (await fs.stat(target).catch(() => null)) continue;
    await moveIfPresent(path.join(folder, ...relative.split('/')), target);
  }
  await fs.rm(folder, { recursive: true, force: true });
}

async function moveIfPresent(from: string, to: string): Promise<void> {
  if (!(await fs.stat(from).catch(() => null))) return;
  await makeFolder(path.dirname(to));
  await fs.rename(from, to);
}

/** The image's cached previews: made again from the files if it is restored, and never shown for a later image that takes its id. */
async function removeThumbnails(project: Project, id: string): Promise<void> {
  const folder = await project.resolve(THUMBNAIL_FOLDER);
  const names = await fs.readdir(folder).catch(() => []);
  for (const name of names.filter((name) => isThumbnailOf(name, id))) await fs.rm(path.join(folder, name), { force: true });
}

async function readItems(trash: string): Promise<Array<{ key: string; item: TrashItem | null }>> {
  const keys = await fs.readdir(trash).catch(() => []);
  return Promise.all(keys.map(async (key) => ({ key, item: await readItem(path.join(trash, key)) })));
}

/** An item's record; null when it is missing or unreadable (a delete interrupted before it was written moved nothing yet). */
async function readItem(folder: string): Promise<TrashItem | null> {
  const text = await readRegularText(path.join(folder, ITEM_FILE)).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'not_found') return null;
    throw err;
  });
  if (text === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null; // written atomically by trashImages: anything unparsable is not one of its records
  }
  const parsed = TrashItem.safeParse(raw);
  return parsed.success ? parsed.data : null;
}
