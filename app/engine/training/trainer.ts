import * as tf from '@tensorflow/tfjs';
import { AppError, cancelledError } from '../../contract/errors.js';
import type { EpochRecord, RunSummary, TrainConfig, TrainProgress } from '../../contract/training.js';
import { assignSplits } from '../../dataset/splits.js';
import type { Project } from '../../project/project.js';
import { createRandom, type Random } from '../../random/prng.js';
import { initialiseBackend } from '../backend/select-backend.js';
import { BatchPrefetcher } from '../data/batch-prefetcher.js';
import { loadSamples } from '../data/load-samples.js';
import { batchSeed } from '../data/view-request.js';
import { buildUnet } from '../model/build-unet.js';
import { loadLayersModel, readModelMetadata, saveLayersModel } from '../model/model-files.js';
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from '../runs/checkpoint.js';
import { RunFolder } from '../runs/run-store.js';
import { afterValidation, initialScheduleState, learningRateAt, type ScheduleState } from './lr-schedule.js';
import type { LossOptions } from './loss.js';
import { createOptimizer } from './optimizer.js';
import { trainStep } from './train-step.js';
import { validate } from './validate.js';
import { renderValidationPictures } from './validation-samples.js';

export type StepProgress = Omit<TrainProgress, 'jobId' | 'runId'>;

export interface TrainingOptions {
  project: Project;
  run: RunFolder;
  /** Continue from the run's last checkpoint instead of starting at epoch 1. */
  resume: boolean;
  signal: AbortSignal;
  onStep?(progress: StepProgress): void;
  onEpoch?(record: EpochRecord, summary: RunSummary): void;
}

const VALIDATION_PICTURES = 3;

/**
 * Trains a run to its last epoch (or early stop), writing after every epoch: a metrics line, an
 * atomic checkpoint and, when validation Dice improved, the best model. Cancelling stops after the
 * current step; the last finished epoch's checkpoint remains for --resume.
 */
export async function train(options: TrainingOptions): Promise<RunSummary> {
  const { project, run, signal } = options;
  const config = run.summary.config;
  const backend = await initialiseBackend(config.settings.backend, config.settings.threads ?? undefined);
  await run.update({ state: 'running', backend, error: null });

  const { train: trainEntries, val: valEntries } = splitImages(project, config);
  if (trainEntries.length === 0) {
    throw new AppError('invalid_input', `Project ${project.name} has no labelled images to train on (validation takes ${config.settings.validationPercent}%).`);
  }
  const channels = config.model.inputChannels;
  const trainSamples = await loadSamples(project, trainEntries, channels, config.settings.sizing, signal);
  const valSamples = await loadSamples(project, valEntries, channels, config.settings.sizing, signal);
  await run.update({ trainImages: trainSamples.length, valImages: valSamples.length });

  const model = buildUnet(config.model, config.settings.seed);
  const optimizer = createOptimizer(config.settings);
  const prefetcher = new BatchPrefetcher(trainSamples);
  try {
    const state = await startingState(run, config, model, optimizer.optimizer, options.resume);
    const lossOptions: LossOptions = { classes: config.model.classes, classWeights: config.settings.classWeights };
    const random = createRandom(state.randomState);
    let { schedule, bestEpoch, bestValDice } = state;

    for (let epoch = state.epoch + 1; epoch <= config.settings.epochs; epoch++) {
      const started = performance.now();
      const trainLoss = await runEpoch(model, optimizer, prefetcher, trainSamples.length, config, lossOptions, schedule, random, epoch, options);
      const seconds = (performance.now() - started) / 1000;
      const validation = valSamples.length ? await validate(model, valSamples, lossOptions, VALIDATION_PICTURES, signal) : null;
      const valDice = validation ? validation.matrix.meanForegroundDice() : null;
      const improved = valDice !== null ? bestValDice === null || valDice > bestValDice : true;
      if (improved) {
        bestEpoch = epoch;
        bestValDice = valDice;
      }
      const record: EpochRecord = {
        epoch,
        trainLoss,
        valLoss: validation?.loss ?? null,
        valDice,
        valIou: validation ? validation.matrix.meanForegroundIou() : null,
        pixelAccuracy: validation ? validation.matrix.pixelAccuracy() : null,
        perClass: validation
          ? project.classes.slice(0, config.model.classes).map((cls) => ({ classId: cls.id, name: cls.name, dice: validation.matrix.dice(cls.id), iou: validation.matrix.iou(cls.id) }))
          : [],
        learningRate: learningRateAt(config.settings, schedule, epoch - 1, 1),
        imagesPerSecond: trainSamples.length / seconds,
        seconds,
        numTensors: tf.memory().numTensors,
      };
      schedule = afterValidation(config.settings, schedule, valDice);
      // Order matters for crash safety: metrics, then checkpoint, then the best model (see resume).
      await run.appendMetrics(record);
      const optimizerState = await optimizer.optimizer.getWeights();
      try {
        await saveCheckpoint(run.checkpointFile, { epoch, randomState: random.state(), schedule, bestEpoch, bestValDice, model: namedWeights(model), optimizer: optimizerState });
      } finally {
        // getWeights returns the optimizer's own variables plus a fresh iteration-count tensor.
        tf.dispose(optimizerState.map((named) => named.tensor).filter((tensor) => !(tensor instanceof tf.Variable)));
      }
      if (improved) await saveBestModel(model, run, epoch, valDice, config);
      if (validation) await renderValidationPictures(validation.pictures, project.classes, run.sampleFile(epoch));
      const summary = await run.update({ epochsDone: epoch, bestEpoch, bestValDice });
      options.onEpoch?.(record, summary);
      if (config.settings.patience > 0 && bestEpoch !== null && epoch - bestEpoch >= config.settings.patience) {
        return await run.update({ state: 'stopped' });
      }
    }
    return await run.update({ state: 'completed' });
  } catch (err) {
    const cancelled = signal.aborted;
    await run.update({ state: cancelled ? 'cancelled' : 'failed', error: cancelled ? null : (err as Error).message });
    throw cancelled ? cancelledError() : err;
  } finally {
    await prefetcher.close();
    model.dispose();
    optimizer.optimizer.dispose();
  }
}

async function runEpoch(
  model: tf.LayersModel,
  optimizer: ReturnType<typeof createOptimizer>,
  prefetcher: BatchPrefetcher,
  sampleCount: number,
  config: TrainConfig,
  loss: LossOptions,
  schedule: ScheduleState,
  random: Random,
  epoch: number,
  options: TrainingOptions,
): Promise<number> {
  const { settings } = config;
  const order = shuffled(sampleCount, random);
  const steps = Math.ceil(order.length / settings.batchSize);
  const patch = settings.patchSize ? { width: settings.patchSize, height: settings.patchSize } : null;
  prefetcher.plan(
    Array.from({ length: steps }, (_, step) => ({
      id: step,
      indices: order.slice(step * settings.batchSize, (step + 1) * settings.batchSize),
      seed: batchSeed(settings.seed, epoch, step),
      augmentation: settings.augmentation,
      patch,
    })),
  );
  const started = performance.now();
  let lossSum = 0;
  for (let step = 0; step < steps; step++) {
    const batch = await prefetcher.next();
    const rate = learningRateAt(settings, schedule, epoch - 1, step / steps);
    lossSum += await trainStep(model, optimizer, batch, loss, settings.clipNorm, rate);
    // Yielding lets a cancel message in (a step's own wait may be a microtask). At most one step of work is lost.
    await new Promise((resolve) => setImmediate(resolve));
    if (options.signal.aborted) throw cancelledError();
    const elapsed = (performance.now() - started) / 1000;
    const imagesDone = Math.min(order.length, (step + 1) * settings.batchSize);
    const imagesPerSecond = imagesDone / elapsed;
    const remainingImages = order.length - imagesDone + (settings.epochs - epoch) * order.length;
    options.onStep?.({ epoch, epochs: settings.epochs, step: step + 1, steps, loss: lossSum / (step + 1), imagesPerSecond, etaSeconds: remainingImages / imagesPerSecond });
  }
  return lossSum / steps;
}

function splitImages(project: Project, config: TrainConfig) {
  const labelled = project.images.filter((image) => image.mask !== null);
  const splits = assignSplits(labelled, { validationPercent: config.settings.validationPercent, seed: project.settings.seed });
  return {
    train: labelled.filter((image) => splits.get(image.id) === 'train'),
    val: labelled.filter((image) => splits.get(image.id) === 'val'),
  };
}

interface StartingState {
  epoch: number;
  randomState: number;
  schedule: ScheduleState;
  bestEpoch: number | null;
  bestValDice: number | null;
}

async function startingState(run: RunFolder, config: TrainConfig, model: tf.LayersModel, optimizer: tf.Optimizer, resume: boolean): Promise<StartingState> {
  const fresh: StartingState = { epoch: 0, randomState: config.settings.seed, schedule: initialScheduleState(), bestEpoch: null, bestValDice: null };
  if (resume) {
    const checkpoint = await loadCheckpoint(run.checkpointFile).catch((err: AppError) => {
      if (err.code === 'not_found') return null; // killed before its first epoch ended
      throw err;
    });
    if (checkpoint) return restore(run, config, model, optimizer, checkpoint);
    await run.truncateMetrics(0);
  }
  if (config.initialWeightsFrom) await copyWeightsFrom(run, config.initialWeightsFrom, model);
  return fresh;
}

async function restore(run: RunFolder, config: TrainConfig, model: tf.LayersModel, optimizer: tf.Optimizer, checkpoint: Checkpoint): Promise<StartingState> {
  try {
    model.setWeights(checkpoint.model.map((named) => named.tensor));
    await optimizer.setWeights(checkpoint.optimizer);
  } finally {
    tf.dispose(checkpoint.model.map((named) => named.tensor));
  }
  await run.truncateMetrics(checkpoint.epoch);
  // A crash between the checkpoint and the best-model write: the checkpoint holds the best weights.
  if (checkpoint.bestEpoch === checkpoint.epoch && (await bestModelEpoch(run)) !== checkpoint.epoch) {
    await saveBestModel(model, run, checkpoint.epoch, checkpoint.bestValDice, config);
  }
  const { epoch, randomState, schedule, bestEpoch, bestValDice } = checkpoint;
  return { epoch, randomState, schedule, bestEpoch, bestValDice };
}

async function copyWeightsFrom(run: RunFolder, sourceRunId: string, model: tf.LayersModel): Promise<void> {
  const source = await RunFolder.open(run.project, sourceRunId);
  if (!source.summary.modelPath) throw new AppError('not_found', `Run ${sourceRunId} has no trained model yet.`);
  const { model: trained } = await loadLayersModel(source.modelDir);
  try {
    const target = model.getWeights();
    const weights = trained.getWeights();
    const mismatch = weights.length !== target.length || weights.some((tensor, index) => tensor.shape.join() !== target[index]!.shape.join());
    if (mismatch) throw new AppError('invalid_input', `Run ${sourceRunId} has a different architecture; fine-tuning needs the same model settings (base, up-sampling, channels, classes).`);
    model.setWeights(weights);
  } finally {
    trained.dispose();
  }
}

async function saveBestModel(model: tf.LayersModel, run: RunFolder, epoch: number, valDice: number | null, config: TrainConfig): Promise<void> {
  await saveLayersModel(model, run.modelDir, { unetStudio: { runId: run.id, epoch, valDice, model: config.model, sizing: config.settings.sizing, classes: run.project.classes.slice(0, config.model.classes) } });
  await run.update({ modelPath: `runs/${run.id}/model` });
}

async function bestModelEpoch(run: RunFolder): Promise<number | null> {
  const metadata = await readModelMetadata(run.modelDir).catch(() => ({}) as Record<string, unknown>);
  return (metadata.unetStudio as { epoch?: number } | undefined)?.epoch ?? null;
}

function namedWeights(model: tf.LayersModel) {
  return model.weights.map((weight) => ({ name: weight.originalName, tensor: weight.read() }));
}

function shuffled(count: number, random: Random): number[] {
  const order = Array.from({ length: count }, (_, index) => index);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
