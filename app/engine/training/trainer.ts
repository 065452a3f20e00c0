import { AppError, cancelledError } from '../../contract/errors.js';
import type { BackendName, RunSummary, TrainConfig } from '../../contract/training.js';
import { assignSplits } from '../../dataset/splits.js';
import type { Project } from '../../project/project.js';
import { createRandom } from '../../random/prng.js';
import { trainingImageSize } from '../data/batch.js';
import { BatchPrefetcher } from '../data/batch-prefetcher.js';
import { sampleFiles } from '../data/load-samples.js';
import { backendMemory } from '../memory/backend-memory.js';
import { planBatch } from '../memory/batch-plan.js';
import { buildUnet } from '../model/build-unet.js';
import type { RunFolder } from '../runs/run-store.js';
import { keepBestModel } from './callbacks/best-model.js';
import { checkpointEveryEpoch } from './callbacks/checkpoint.js';
import { earlyStopping } from './callbacks/early-stopping.js';
import { learningRateSchedule } from './callbacks/learning-rate-schedule.js';
import { type ProgressListeners, progressReports } from './callbacks/progress.js';
import { timeBudget } from './callbacks/time-budget.js';
import { validationSamples } from './callbacks/validation-samples.js';
import { createOptimizer } from './optimizer.js';
import { shuffledEpochs } from './shuffled-epochs.js';
import { startingState } from './starting-state.js';
import type { TrainingContext } from './training-context.js';
import { runTrainingLoop } from './training-loop.js';
import { initialiseTrainingBackend, startTrainingSteps, type TrainingSteps } from './replicas/training-steps.js';
import { validate } from './validate.js';

export interface TrainingOptions extends ProgressListeners {
  project: Project;
  run: RunFolder;
  /** Continue from the run's last checkpoint instead of starting at epoch 1. */
  resume: boolean;
  signal: AbortSignal;
}

const VALIDATION_PICTURES = 3;

/**
 * Trains a run to its last epoch (or early stop): picks the backend and how its threads train
 * (data-parallel replicas or one model, see initialiseTrainingBackend), plans how batches fit its
 * memory (refusing a step that cannot fit one image), sets up the data, the model and the context,
 * then runs the training loop with the run's callbacks, writing after every epoch a metrics line,
 * an atomic checkpoint and, when validation Dice improved, the best model. Cancelling stops after
 * the current step; the last finished epoch's checkpoint remains for --resume.
 */
export async function train(options: TrainingOptions): Promise<RunSummary> {
  const { project, run, signal } = options;
  const startedAt = performance.now();
  const config = run.summary.config;
  const images = splitImages(project, config);
  const { backend, replicas } = await initialiseTrainingBackend(config.settings.backend, config.settings.threads, {
    model: config.model,
    batchSize: config.settings.batchSize,
    // Without training images the run fails below, saying so.
    imageSize: images.train.length > 0 ? trainingImageSize(images.train, config.settings.sizing, config.settings.patchSize) : { width: 16, height: 16 },
  });
  await run.update({ state: 'running', backend, error: null });
  try {
    return await trainOn(backend.name, replicas, images, options, startedAt);
  } catch (err) {
    const cancelled = signal.aborted;
    await run.update({ state: cancelled ? 'cancelled' : 'failed', error: cancelled ? null : (err as Error).message });
    throw cancelled ? cancelledError() : err;
  }
}

async function trainOn(backend: BackendName, replicas: number, images: ReturnType<typeof splitImages>, options: TrainingOptions, startedAt: number): Promise<RunSummary> {
  const { project, run, signal } = options;
  const config = run.summary.config;
  const { train: trainEntries, val: valEntries } = images;
  if (trainEntries.length === 0) {
    throw new AppError('invalid_input', `Project ${project.name} has no labelled images to train on (validation takes ${config.settings.validationPercent}%).`);
  }
  // Refuses, before any image is read, a step that cannot fit even one image.
  const imageSize = trainingImageSize(trainEntries, config.settings.sizing, config.settings.patchSize);
  const batchPlan = planBatch(config.model, config.settings.batchSize, imageSize, backend, backendMemory(backend, replicas), replicas);
  await run.update({ batchPlan });

  const trainFiles = await sampleFiles(project, trainEntries);
  const valFiles = await sampleFiles(project, valEntries);
  await run.update({ trainImages: trainFiles.length, valImages: valFiles.length });

  const model = buildUnet(config.model, config.settings.seed);
  const optimizer = createOptimizer(config.settings);
  const maxPixels = project.settings.maxImagePixels;
  const format = { channels: config.model.inputChannels, sizing: config.settings.sizing, maxPixels };
  const prefetcher = new BatchPrefetcher({ files: trainFiles, format, cacheBytes: config.settings.cacheMiB * 2 ** 20 });
  let steps: TrainingSteps | null = null;
  try {
    const { randomState, ...state } = await startingState(run, config, model, optimizer.optimizer, options.resume);
    const loss = { classes: config.model.classes, classWeights: config.settings.classWeights };
    const setup = { model: config.model, optimizer: config.settings, loss, clipNorm: config.settings.clipNorm, microBatchSize: batchPlan.microBatchSize, training: true };
    const runSteps = (steps = await startTrainingSteps(replicas, model, optimizer, setup));
    const context: TrainingContext = {
      config,
      classes: project.classes,
      model,
      optimizer,
      loss,
      random: createRandom(randomState),
      signal,
      runStep: (batch) => runSteps.step(batch, context.learningRate),
      state,
      learningRate: config.settings.learningRate,
      stopTraining: false,
    };
    const batches = shuffledEpochs(prefetcher, trainFiles.length, config.settings, context.random);
    const evaluate = async () => {
      if (valFiles.length === 0) return null;
      const validation = await validate(model, valFiles, { config, classes: project.classes, maxPixels, loss, pictureCount: VALIDATION_PICTURES, signal });
      // Masks that are all "ignore" give no metric at all (not a perfect one): reported as no labelled pixels.
      return validation.matrix.labelledPixels() > 0 ? validation : null;
    };
    // In this order: the epoch count before the schedule reads it, the schedule's state and the
    // metrics line before the checkpoint, the checkpoint before the best model (crash safety),
    // reports once the epoch's files exist.
    const ended = await runTrainingLoop(context, batches, evaluate, [
      timeBudget(run, startedAt),
      learningRateSchedule(),
      checkpointEveryEpoch(run),
      keepBestModel(run),
      validationSamples(run),
      progressReports(run, options),
      earlyStopping(),
    ]);
    return await run.update({ state: ended });
  } finally {
    await steps?.close();
    await prefetcher.close();
    model.dispose();
    optimizer.optimizer.dispose();
  }
}

function splitImages(project: Project, config: TrainConfig) {
  const labelled = project.images.filter((image) => image.mask !== null);
  const splits = assignSplits(labelled, { validationPercent: config.settings.validationPercent, seed: project.settings.seed });
  return {
    train: labelled.filter((image) => splits.get(image.id) === 'train'),
    val: labelled.filter((image) => splits.get(image.id) === 'val'),
  };
}
