import { AppError } from '../../contract/errors.js';
import type { TrainRequest } from '../../contract/training.js';
import type { Project } from '../../project/project.js';
import { RunFolder } from '../runs/run-store.js';
import { planAutoPreset } from '../auto/auto-preset.js';
import { resolveTrainConfig } from './resolve-config.js';

/** A new run folder for a request (the auto preset planned for the project), or the existing one when the request resumes a run. */
export async function prepareRun(project: Project, request: TrainRequest): Promise<{ run: RunFolder; resume: boolean }> {
  if (request.resume) {
    const run = await RunFolder.open(project, request.resume);
    if (run.summary.state === 'completed') throw new AppError('conflict', `Run ${run.id} already completed all ${run.summary.config.settings.epochs} epochs.`);
    return { run, resume: true };
  }
  if (request.from) {
    // Refuses unknown runs before creating anything; fine-tuning keeps the source's architecture unless told otherwise.
    const source = (await RunFolder.open(project, request.from)).summary.config.model;
    request = { ...request, model: { base: source.base, upsampling: source.upsampling, inputChannels: source.inputChannels, ...request.model } };
  }
  const auto = request.preset === 'auto' ? await planAutoPreset(project, request) : null;
  return { run: await RunFolder.create(project, resolveTrainConfig(project, request, auto)), resume: false };
}
