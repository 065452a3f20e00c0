import type { HandlerRegistry } from '../contract/registry.js';
import { runPredictor } from '../inference/worker/predictor-host.js';
import { runSegmenter } from '../inference/worker/segmenter-host.js';
import type { WorkerLauncher } from '../jobs/worker-process.js';
import type { JobManager } from '../jobs/job-manager.js';
import type { OpenProjects } from '../project/open-projects.js';
import type { Project } from '../project/project.js';

export interface InferenceServiceDeps {
  registry: HandlerRegistry;
  jobs: JobManager;
  projects: OpenProjects;
  changed(project: Project, reason: string): void;
  /** Starts the process each batch segmentation and each prediction job runs in. */
  launchWorker: WorkerLauncher;
}

/**
 * Batch segmentation and project predictions run as jobs in their own processes (the host records
 * predictions in the project index); importing a model is a quick request.
 */
export function registerInferenceChannels({ registry, jobs, projects, changed, launchWorker }: InferenceServiceDeps): void {
  registry
    .register('segment.start', async (request) => {
      const job = jobs.start('segment', `Segment into ${request.output}`, ({ signal, progress }) => runSegmenter(launchWorker, request, { signal, onProgress: progress }));
      return { jobId: job.id };
    })
    .register('predictions.run', async (request) => {
      const project = await projects.get(request.project);
      const job = jobs.start('predict', `Predict ${project.name}`, async ({ signal, progress }) => {
        try {
          return await runPredictor(launchWorker, project, request, { signal, onProgress: progress });
        } finally {
          changed(project, 'predictions');
        }
      });
      return { jobId: job.id };
    })
    .register('models.import', async ({ project: root, file, ...options }) => {
      // Loaded on first use: it brings in onnxruntime (and, through model files, TensorFlow.js),
      // which the host, Electron's main process included, otherwise never loads.
      const { importExternalModel } = await import('../inference/import-model.js');
      return importExternalModel(await projects.get(root), file, options);
    })
}
