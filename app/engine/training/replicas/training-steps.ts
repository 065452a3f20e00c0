import type * as tf from '@tensorflow/tfjs';
import type { BackendChoice, BackendReport, ModelConfig } from '../../../contract/training.js';
import { initialiseBackend } from '../../backend/select-backend.js';
import { defaultTrainingThreads } from '../../backend/wasm-kernels/threads.js';
import type { Batch } from '../../data/batch.js';
import { planReplicas } from '../../memory/batch-plan.js';
import type { SteppableOptimizer } from '../optimizer.js';
import { trainStep } from '../train-step.js';
import { DataParallelSteps } from './data-parallel.js';
import type { ReplicaSetup } from './replica-messages.js';

/** What a run's steps will train: the model, the batch size and the size of its images. */
export interface StepShape {
  model: ModelConfig;
  batchSize: number;
  imageSize: { width: number; height: number };
}

/**
 * The backend for training and how its threads are used. On the wasm backend with 2 or more
 * threads and batches of 2 or more images, the run trains data-parallel replicas, one per thread
 * on its own single-threaded backend (see planReplicas): halves of a batch are independent work,
 * which scales on few cores where splitting each op over threads does not (on 2 cores one model's
 * kernels on 2 threads trained 1.2x as fast as on 1, two independent trainings side by side about
 * 1.7x). A batch of one image, or one thread, keeps one model and its kernels on all the threads.
 */
export async function initialiseTrainingBackend(choice: BackendChoice, threads: number | null, shape: StepShape): Promise<{ backend: BackendReport; replicas: number }> {
  const allowed = threads ?? defaultTrainingThreads();
  const replicas = planReplicas(shape.model, shape.batchSize, shape.imageSize, allowed);
  const backend = await initialiseBackend(choice, { threads: replicas > 1 ? 1 : allowed });
  if (backend.name !== 'wasm' || replicas === 1) return { backend, replicas: 1 };
  const unused = allowed > replicas ? `; ${allowed} threads allowed, but a batch of ${shape.batchSize} gives at most ${replicas} replicas` : '';
  return {
    backend: {
      ...backend,
      threads: replicas,
      replicas,
      threadsReason: `${replicas} replicas x 1 thread: data parallel, each replica trains on its own part of every batch on its own thread${unused}`,
    },
    replicas,
  };
}

/** How a run's steps run: on this thread's model alone, or with replicas. */
export interface TrainingSteps {
  /** One optimisation step on `batch`; resolves to its loss. */
  step(batch: Batch, learningRate: number): Promise<number>;
  /** Ends the replicas' threads (none for one model). */
  close(): Promise<void>;
}

/** Starts a run's steps on `model` and `optimizer` (their weights as they are now), with `replicas` data-parallel replicas when more than 1. */
export async function startTrainingSteps(replicas: number, model: tf.LayersModel, optimizer: SteppableOptimizer, setup: ReplicaSetup): Promise<TrainingSteps> {
  if (replicas > 1) return DataParallelSteps.start(replicas, model, optimizer, setup);
  return {
    step: (batch, learningRate) => trainStep(model, optimizer, batch, setup.loss, setup.clipNorm, learningRate, setup.microBatchSize, { training: setup.training }),
    close: async () => undefined,
  };
}
