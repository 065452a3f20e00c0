import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError, toContractError } from '../../contract/errors.js';
import { SAFE_NAME } from '../../contract/schemas.js';
import { EpochRecord, type RunListing, RunSummary, type TrainConfig } from '../../contract/training.js';
import { writeFileAtomic } from '../../files/atomic-write.js';
import { describeWriteError } from '../../files/file-errors.js';
import { folderEntries } from '../../files/folder-entries.js';
import type { Project } from '../../project/project.js';
import { makeFolder } from '../../files/make-folder.js';
import { readRegularText } from '../../files/regular-file.js';

export const RUNS_FOLDER = 'runs';

/**
 * The folder of one training run, `runs/<id>/`: run.json (its summary), metrics.jsonl (one line per
 * finished epoch), checkpoint.bin, model/ (the best model so far) and samples/ (validation pictures).
 */
export class RunFolder {
  private constructor(
    readonly project: Project,
    readonly id: string,
    /** runs/<id>, resolved inside the project (see Project.resolve). */
    readonly dir: string,
    private current: RunSummary,
  ) {}

  static async create(project: Project, config: TrainConfig): Promise<RunFolder> {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const id = `${stamp}-${randomBytes(2).toString('hex')}`;
    const now = new Date().toISOString();
    const summary: RunSummary = {
      id, state: 'running', config, backend: null, batchPlan: null, epochsDone: 0, bestEpoch: null, bestValDice: null, modelPath: null,
      trainImages: 0, valImages: 0, error: null, startedAt: now, updatedAt: now,
    };
    const run = new RunFolder(project, id, await project.resolve(`${RUNS_FOLDER}/${id}`), summary);
    await makeFolder(path.join(run.dir, 'samples'));
    await makeFolder(path.join(run.dir, 'model'));
    await run.update({});
    return run;
  }

  static async open(project: Project, id: string): Promise<RunFolder> {
    if (!SAFE_NAME.test(id)) throw new AppError('invalid_input', `"${id}" is not a run id.`);
    const dir = await project.resolve(`${RUNS_FOLDER}/${id}`);
    const file = path.join(dir, 'run.json');
    const text = await readRegularText(file);
    const parsed = RunSummary.safeParse(safeJson(text));
    if (!parsed.success) throw new AppError('invalid_project', `${file}: not a valid run summary.`, { file });
    return new RunFolder(project, id, dir, parsed.data);
  }

  /** Every run, oldest first; a run folder whose run.json cannot be read is listed as unreadable, with why. */
  static async list(project: Project): Promise<RunListing> {
    const folder = await project.resolve(RUNS_FOLDER);
    const names = await folderEntries(folder);
    const listing: RunListing = { runs: [], unreadable: [] };
    for (const name of names.sort()) {
      try {
        listing.runs.push((await RunFolder.open(project, name)).summary);
      } catch (err) {
        const error = toContractError(err);
        listing.unreadable.push({ file: path.join(folder, name, 'run.json'), code: error.code, message: error.message });
      }
    }
    return listing;
  }

  /** The newest run that has a trained model (run ids start with their start time, so the list is oldest first). */
  static async latestWithModel(project: Project): Promise<RunFolder> {
    const latest = (await RunFolder.list(project)).runs.filter((summary) => summary.modelPath !== null).at(-1);
    if (!latest) throw new AppError('not_found', `Project ${project.name} has no trained model yet; train one first (unet-studio train ${project.root}).`);
    return RunFolder.open(project, latest.id);
  }

  get summary(): RunSummary {
    return structuredClone(this.current);
  }

  get checkpointFile(): string {
    return path.join(this.dir, 'checkpoint.bin');
  }

  get modelDir(): string {
    return path.join(this.dir, 'model');
  }

  sampleFile(epoch: number): string {
    return path.join(this.dir, 'samples', `epoch-${String(epoch).padStart(3, '0')}.png`);
  }

  async update(patch: Partial<RunSummary>): Promise<RunSummary> {
    this.current = { ...this.current, ...patch, updatedAt: new Date().toISOString() };
    await writeFileAtomic(path.join(this.dir, 'run.json'), `${JSON.stringify(this.current, null, 2)}\n`);
    return this.summary;
  }

  async appendMetrics(record: EpochRecord): Promise<void> {
    const file = path.join(this.dir, 'metrics.jsonl');
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(file, 'a');
      await handle.appendFile(`${JSON.stringify(record)}\n`);
      await handle.sync();
    } catch (err) {
      throw describeWriteError(file, err);
    } finally {
      await handle?.close();
    }
  }

  /** The epochs recorded so far (none before the first); a line torn by a crash is left out. */
  async readMetrics(): Promise<EpochRecord[]> {
    const text = await readRegularText(path.join(this.dir, 'metrics.jsonl')).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'not_found') return ''; // no epoch finished yet
      throw err;
    });
    return text
      .split('\n')
      .map((line) => EpochRecord.safeParse(safeJson(line)))
      .flatMap((parsed) => (parsed.success ? [parsed.data] : []));
  }

  /** Keeps the records up to `epoch` (the checkpoint a resumed run continues from). */
  async truncateMetrics(epoch: number): Promise<void> {
    const kept = (await this.readMetrics()).filter((record) => record.epoch <= epoch);
    await writeFileAtomic(path.join(this.dir, 'metrics.jsonl'), kept.map((record) => `${JSON.stringify(record)}\n`).join(''));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
