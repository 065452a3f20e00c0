import { fileURLToPath } from 'node:url';
import type { PredictionsReport, PredictionsRequest } from '../../contract/segmentation.js';
import { runIndexWorker } from '../../jobs/index-writes.js';
import type { WorkerLauncher } from '../../jobs/worker-process.js';
import type { Project } from '../../project/project.js';
import { PredictorToHost } from './predictor-messages.js';

export const PREDICTOR_MODULE = fileURLToPath(new URL('./predictor-process.js', import.meta.url));

/** Predicts the project's unlabelled images in its own process; the host records each prediction. */
export function runPredictor(
  launch: WorkerLauncher,
  project: Project,
  request: PredictionsRequest,
  callbacks: { signal: AbortSignal; onProgress?(done: number, total: number, message: string): void },
): Promise<PredictionsReport> {
  return runIndexWorker(launch, PREDICTOR_MODULE, { request: { ...request, project: project.root } }, PredictorToHost, {
    ...callbacks,
    claimWrites: () => project.claimWrites(),
    write: (message) => project.recordPrediction(message.id, message.prediction),
    what: 'prediction',
    crashHint: 'Predictions finished before it stopped are kept; predict again to do the rest.',
  });
}
