import { AppError } from '../../contract/errors.js';
import type { TrainRequest } from '../../contract/training.js';
import type { Project } from '../../project/project.js';
import { RunFolder } from '../runs/run-store.js';
import { resolveTrainConfig } from './resolve-config.js';

/** A new run folder for a request, or the existing one when the request resumes a run. */
export async function prepareRun(project: Project, request: TrainRequest): Promise<{ run: RunFolder; resume: boolean }> {
  if (request.resume) {
    const run = await RunFolder.open(project, request.resume);
    if (run.summary.state === 'completed') throw new AppError('conflict', `Run ${run.id} already completed all ${run.summary.config.settings.epochs} epochs.`);
    return { run, resume: true };
  }
  if (request.from) await RunFolder.open(project, request.from); // refuse unknown runs before creating anything
  return { run: await RunFolder.create(project, resolveTrainConfig(project, request)), resume: false };
}
