import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError, toContractError } from '../contract/errors.js';
import { type ClassDef, type ImageEntry, type ImagePrediction, type ImageStatus, type ProjectSummary, type StatusCounts, toSafeName } from '../contract/schemas.js';
import { encodeMaskPng } from '../masks/mask-png.js';
import type { LabelMap } from '../masks/label-map.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { describeFileError } from '../files/file-errors.js';
import { readRegularText } from '../files/regular-file.js';
import { defaultClassColour } from './class-colours.js';
import { migrateProjectData } from './migrations.js';
import { claimProjectWrites } from './project-lock.js';
import { PROJECT_FILE, PROJECT_FOLDERS, THUMBNAIL_FOLDER, maskRelativePath, projectFile, resolveInProject } from './project-layout.js';
import { CURRENT_SCHEMA_VERSION, DEFAULT_SETTINGS, ProjectData, describeSchemaProblem } from './project-schema.js';
import { makeFolder } from '../files/make-folder.js';
import { removeStaleTemporaryFiles } from '../files/temp-files.js';
import { hasInterruptedClassRemoval, settleClassRemoval } from './class-removal.js';
import { settleTrash } from './trash.js';

export interface ImageQuery {
  offset?: number;
  limit?: number;
  status?: ImageStatus;
  search?: string;
}

export type ImagePatch = Partial<Pick<ImageEntry, 'status' | 'split' | 'tags' | 'scribble'>>;

type Recovery = ProjectSummary['recovery'];

/**
 * A project folder: project.json (classes, settings, the image index) beside images/, masks/ and the
 * other folders. All writes are atomic and serialised, so concurrent edits never interleave on disk.
 */
export class Project {
  private readonly byId: Map<string, ImageEntry>;
  private saving: Promise<void> = Promise.resolve();
  /** project.json as this instance last read or wrote it (mtime and size), to notice other writers. */
  private stamp: string | null = null;
  private cleanupNotice: string | null = null;

  private constructor(
    readonly root: string,
    private data: ProjectData,
    readonly recovery: Recovery,
  ) {
    this.byId = new Map(data.images.map((image) => [image.id, image]));
  }

  static async create(root: string, options: { name?: string; classes: string[] }): Promise<Project> {
    const absolute = path.resolve(root);
    const existing = await fs.stat(projectFile(absolute)).catch(() => null);
    if (existing) throw new AppError('conflict', `${absolute} already holds a project (${PROJECT_FILE} exists).`, { path: absolute });
    const names = ['background', ...options.classes];
    const duplicate = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicate) throw new AppError('invalid_input', `Class "${duplicate}" is listed twice.`);
    for (const folder of PROJECT_FOLDERS) await makeFolder(path.join(absolute, folder));
    const data: ProjectData = {
      schemaVersion: CURRENT_SCHEMA_VERSION,
      name: options.name ?? path.basename(absolute),
      createdAt: new Date().toISOString(),
      classes: names.map((name, id) => ({ id, name, color: defaultClassColour(id) })),
      settings: { ...DEFAULT_SETTINGS },
      modelInUse: null,
      images: [],
    };
    const project = new Project(absolute, data, null);
    await project.save();
    return project;
  }

  /**
   * Opens a project; a corrupt project.json is kept aside as project.json.corrupt-<time> and the
   * project is recovered from project.json.bak, with the recovery reported in the summary.
   */
  static async open(root: string): Promise<Project> {
    const absolute = path.resolve(root);
    const file = projectFile(absolute);
    const stampBefore = await fileStamp(file);
    const primary = await readProjectData(file);
    if (primary.ok) {
      const project = new Project(absolute, primary.data, null);
      project.stamp = stampBefore;
      // Masks may not match the class list until an interrupted class removal is settled, which takes the write lock.
      if (await hasInterruptedClassRemoval(absolute)) await project.claimWrites();
      return project;
    }
    if (primary.missing) {
      throw new AppError('not_found', `${absolute} is not a U-Net Studio project (no ${PROJECT_FILE}). Create one with "unet-studio init".`, { path: absolute });
    }
    const backup = await readProjectData(`${file}.bak`);
    if (!backup.ok) {
      throw new AppError('invalid_project', `${file}: ${primary.problem}. The backup ${PROJECT_FILE}.bak cannot be used either (${backup.problem}).`, { file });
    }
    const corruptCopy = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await fs.copyFile(file, corruptCopy);
    const project = new Project(absolute, backup.data, { from: `${PROJECT_FILE}.bak`, corruptCopy: path.basename(corruptCopy), problem: primary.problem });
    await writeFileAtomic(file, serialise(backup.data));
    return project;
  }

  get name(): string {
    return this.data.name;
  }

  get classes(): readonly ClassDef[] {
    return this.data.classes;
  }

  get settings(): ProjectData['settings'] {
    return this.data.settings;
  }

  /** The run id or imported model name chosen as the project's model, or null (the newest run's). */
  get modelInUse(): string | null {
    return this.data.modelInUse;
  }

  /** Records the model in use (the caller checks that it exists). */
  async setModelInUse(name: string | null): Promise<void> {
    this.data.modelInUse = name;
    await this.save();
  }

  /** Scribble mode for the whole project (images with their own setting keep it); see ProjectSettings.scribble. */
  async setScribble(on: boolean): Promise<void> {
    this.data.settings.scribble = on;
    await this.save();
  }

  get images(): readonly ImageEntry[] {
    return this.data.images;
  }

  image(id: string): ImageEntry {
    const entry = this.byId.get(id);
    if (!entry) throw new AppError('not_found', `Image "${id}" is not in project ${this.data.name}.`, { id });
    return entry;
  }

  hasImage(id: string): boolean {
    return this.byId.has(id);
  }

  /** The file a project-relative path names, refused when it would lead outside the project (see resolveInProject). */
  resolve(relative: string): Promise<string> {
    return resolveInProject(this.root, relative);
  }

  counts(): StatusCounts {
    const counts: StatusCounts = { images: this.data.images.length, unlabelled: 0, partial: 0, labelled: 0, predicted: 0, reviewed: 0 };
    for (const image of this.data.images) counts[image.status] += 1;
    return counts;
  }

  summary(): ProjectSummary {
    return {
      path: this.root,
      name: this.data.name,
      schemaVersion: this.data.schemaVersion,
      classes: structuredClone(this.data.classes),
      settings: { ...this.data.settings },
      counts: this.counts(),
      modelInUse: this.data.modelInUse,
      recovery: this.recovery,
    };
  }

  list(query: ImageQuery = {}): { total: number; items: ImageEntry[] } {
    const search = query.search?.trim().toLowerCase();
    const matches = this.data.images.filter(
      (image) =>
        (!query.status || image.status === query.status) &&
        (!search || image.id.toLowerCase().includes(search) || image.originalName.toLowerCase().includes(search) || image.tags.some((tag) => tag.toLowerCase().includes(search))),
    );
    const offset = query.offset ?? 0;
    return { total: matches.length, items: matches.slice(offset, offset + (query.limit ?? matches.length)) };
  }

  /** A new id from a file stem: safe in file names, unique in this project (and in `reserved`). */
  uniqueImageId(stem: string, reserved: ReadonlySet<string> = new Set()): string {
    const base = imageIdBase(stem);
    let id = base;
    for (let n = 2; this.byId.has(id) || reserved.has(id); n++) id = `${base}-${n}`;
    return id;
  }

  async addImages(entries: readonly ImageEntry[]): Promise<void> {
    for (const entry of entries) {
      if (this.byId.has(entry.id)) throw new AppError('conflict', `Image id "${entry.id}" already exists.`);
    }
    for (const entry of entries) {
      this.data.images.push(entry);
      this.byId.set(entry.id, entry);
    }
    await this.save();
  }

  /** Records a model's prediction of an image; only an unlabelled image becomes 'predicted' (a human mask always wins). */
  async recordPrediction(id: string, prediction: ImagePrediction): Promise<ImageEntry> {
    const entry = this.image(id);
    entry.prediction = prediction;
    if (entry.status === 'unlabelled') entry.status = 'predicted';
    await this.save();
    return entry;
  }

  async updateImage(id: string, patch: ImagePatch): Promise<ImageEntry> {
    const entry = this.image(id);
    Object.assign(entry, patch);
    await this.save();
    return entry;
  }

  /** Applies a change to many images with a single save of project.json (multi-select edits). */
  async updateImages(ids: readonly string[], change: (entry: ImageEntry) => ImagePatch): Promise<number> {
    const entries = ids.map((id) => this.image(id));
    for (const entry of entries) Object.assign(entry, change(entry));
    await this.save();
    return entries.length;
  }

  /**
   * Renames, recolours or adds classes. Removing one changes what the masks' pixel values mean, so
   * it is refused here: removeClass (class-removal.ts) rewrites the masks with it.
   */
  async setClasses(classes: ClassDef[]): Promise<void> {
    if (classes.length < this.data.classes.length) {
      throw new AppError('invalid_input', `Classes can only be renamed, recoloured or added here; remove "${this.data.classes[classes.length]!.name}" with its own command, which asks what its pixels in the masks become.`);
    }
    await this.replaceClasses(classes);
  }

  /** Takes the class list of a class removal whose rewritten masks are staged (only removeClass calls this: it is that change's commit point). */
  async commitClassRemoval(classes: ClassDef[]): Promise<void> {
    await this.replaceClasses(classes);
  }

  private async replaceClasses(classes: ClassDef[]): Promise<void> {
    const candidate = ProjectData.safeParse({ ...this.data, classes });
    if (!candidate.success) throw new AppError('invalid_input', `Invalid classes: ${describeSchemaProblem(candidate.error)}`);
    const names = candidate.data.classes.map((entry) => entry.name.toLowerCase());
    const duplicate = candidate.data.classes.find((_, index) => names.indexOf(names[index]!) !== index);
    if (duplicate) throw new AppError('invalid_input', `Class "${duplicate.name}" is listed twice.`);
    this.data.classes = candidate.data.classes;
    await this.save();
  }

  /** Takes images out of the index with one save (trash.ts moves their files first). */
  async removeImages(ids: readonly string[]): Promise<void> {
    const gone = new Set(ids);
    for (const id of gone) this.image(id);
    this.data.images = this.data.images.filter((image) => !gone.has(image.id));
    for (const id of gone) this.byId.delete(id);
    await this.save();
  }

  /** Stores a label map for an image; the previous mask file is kept as .bak. */
  async writeMask(id: string, map: LabelMap, status: ImageStatus = 'labelled'): Promise<void> {
    const entry = this.image(id);
    if (map.width !== entry.width || map.height !== entry.height) {
      throw new AppError('invalid_mask', `Mask for ${entry.originalName} is ${map.width}x${map.height} but the image is ${entry.width}x${entry.height}.`, { id });
    }
    await this.claimWrites();
    await this.storeMask(entry, await encodeMaskPng(map), status);
  }

  /**
   * Gives an image without a mask the one an import found for it (an encoded label-map PNG of its
   * size, checked by the import); an image that has a mask by now (painted meanwhile) keeps it, and
   * the answer is false.
   */
  async addMissingMask(id: string, png: Uint8Array, status: ImageStatus): Promise<boolean> {
    const entry = this.image(id);
    await this.claimWrites();
    if (entry.mask !== null) return false;
    await this.storeMask(entry, png, status);
    return true;
  }

  /** The mask file first (atomically, the previous one kept as .bak), then the entry that points to it. */
  private async storeMask(entry: ImageEntry, png: Uint8Array, status: ImageStatus): Promise<void> {
    const relative = maskRelativePath(entry.id);
    await writeFileAtomic(await this.resolve(relative), png, { keepBackup: true });
    entry.mask = relative;
    entry.status = status;
    await this.save();
  }

  /** True when another program rewrote project.json after this instance read or wrote it. */
  async isStale(): Promise<boolean> {
    await this.saving;
    return this.stamp !== null && (await fileStamp(projectFile(this.root))) !== this.stamp;
  }

  /** Takes the project's one-writer lock; call before writing anything into the project folder. */
  claimWrites(): Promise<void> {
    return claimProjectWrites(this.root, async () => {
      try {
        const removed = await removeLeftovers(this.root);
        if (removed.temporary + removed.copies > 0) {
          this.cleanupNotice = `Removed ${removed.temporary + removed.copies} files left by an interrupted earlier run: ${removed.temporary} unfinished temporary files and ${removed.copies} image copies no entry refers to.`;
        }
      } catch (err) {
        // Leftovers only take disk space, and an unsettled class removal or trash item stays for the next try: neither must stop the write that was asked for.
        this.cleanupNotice = `Could not remove the files left by an interrupted earlier run (${toContractError(describeFileError(err)).message}).`;
      }
    });
  }

  /** What taking the lock tidied up (see removeLeftovers), once: the caller that reports it takes it. */
  takeCleanupNotice(): string | null {
    const notice = this.cleanupNotice;
    this.cleanupNotice = null;
    return notice;
  }

  /** Queues a write of project.json after any write already under way. */
  save(): Promise<void> {
    const snapshot = serialise(this.data);
    const write = this.saving.then(async () => {
      await this.claimWrites();
      const file = projectFile(this.root);
      if (this.stamp !== null && (await fileStamp(file)) !== this.stamp) {
        throw new AppError('conflict', `${file} was changed by another program since it was opened here; nothing was overwritten. Reopen the project to see those changes, then repeat this one.`, { file });
      }
      await writeFileAtomic(file, snapshot, { keepBackup: true });
      this.stamp = await fileStamp(file);
    });
    this.saving = write.catch(() => undefined);
    return write;
  }
}

/**
 * After a writer was killed: its temporary files (the writer's pid is gone) and image copies that an
 * import wrote but never entered into project.json. The index is read from disk, not from memory, so
 * entries another process added are never taken for orphans.
 */
async function removeLeftovers(root: string): Promise<{ temporary: number; copies: number }> {
  const runs = await fs.readdir(path.join(root, 'runs')).catch(() => []);
  const folders = [root, ...[...PROJECT_FOLDERS, THUMBNAIL_FOLDER].map((folder) => path.join(root, folder)), ...runs.flatMap((run) => ['', 'model', 'samples'].map((sub) => path.join(root, 'runs', run, sub)))];
  let temporary = 0;
  for (const folder of folders) temporary += (await removeStaleTemporaryFiles(folder)).length;
  const index = await readProjectData(projectFile(root));
  if (!index.ok) return { temporary, copies: 0 };
  // Before the orphan check: both may move files back into images/ and masks/.
  await settleClassRemoval(root, index.data.classes);
  await settleTrash(root, index.data.images);
  const referenced = new Set(index.data.images.map((image) => image.file));
  const stored = await fs.readdir(path.join(root, 'images')).catch(() => []);
  const orphans = stored.filter((name) => !name.startsWith('.') && !referenced.has(`images/${name}`));
  for (const name of orphans) await fs.rm(path.join(root, 'images', name), { force: true });
  return { temporary, copies: orphans.length };
}

async function fileStamp(file: string): Promise<string | null> {
  const stat = await fs.stat(file).catch(() => null);
  return stat ? `${stat.mtimeMs}:${stat.size}` : null;
}

function serialise(data: ProjectData): string {
  return `${JSON.stringify(data, null, 1)}\n`;
}

type ReadResult = { ok: true; data: ProjectData } | { ok: false; missing: boolean; problem: string };

async function readProjectData(file: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readRegularText(file);
  } catch (err) {
    const error = toContractError(err);
    const missing = error.code === 'not_found';
    return { ok: false, missing, problem: missing ? 'missing' : error.message };
  }
  if (text.trim() === '') return { ok: false, missing: false, problem: 'the file is empty' };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, missing: false, problem: `not valid JSON (${(err as Error).message})` };
  }
  const { data } = migrateProjectData(file, raw);
  const parsed = ProjectData.safeParse(data);
  if (!parsed.success) return { ok: false, missing: false, problem: describeSchemaProblem(parsed.error) };
  return { ok: true, data: parsed.data };
}

/** The id an image file's stem asks for, before a number is added to keep ids unique. */
export function imageIdBase(stem: string): string {
  return toSafeName(stem, 'image');
}
