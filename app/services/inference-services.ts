import type { HandlerRegistry } from '../contract/registry.js';
import { runPredictor } from '../inference/worker/predictor-host.js';
import { runSegmenter } from '../inference/worker/segmenter-host.js';
import type { WorkerLauncher } from '../jobs/worker-process.js';
import type { JobManager } from '../jobs/job-manager.js';
import type { OpenProjects } from '../project/open-projects.js';
import type { Project } from '../project/project.js';
import type { PathGrants } from './path-grants.js';

export interface InferenceServiceDeps {
  registry: HandlerRegistry;
  jobs: JobManager;
  projects: OpenProjects;
  /** The folders paths from the page may name. */
  grants: PathGrants;
  changed(project: Project, reason: string): void;
  /** Starts the process each batch segmentation and each prediction job runs in. */
  launchWorker: WorkerLauncher;
}

/**
 * Batch segmentation and project predictions run as jobs in their own processes (the host records
 * predictions in the project index); importing a model is a quick request.
 */
export function registerInferenceChannels({ registry, jobs, projects, grants, changed, launchWorker }: InferenceServiceDeps): void {
  registry
    .register('segment.start', async (sent) => {
      const request = { ...sent, inputs: await Promise.all(sent.inputs.map((input) => grants.check(input))), output: await grants.check(sent.output), model: await grantedModelSpec(grants, sent.model) };
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
      return importExternalModel(await projects.get(root), await grants.check(file), options);
    });
}

/** `--model`'s value from the page: an .onnx file or a project folder (with `:run` or `:name`), inside the granted folders. */
async function grantedModelSpec(grants: PathGrants, spec: string): Promise<string> {
  if (await grants.allows(spec)) return spec;
  const colon = spec.lastIndexOf(':');
  if (colon > 1) return `${await grants.check(spec.slice(0, colon))}${spec.slice(colon)}`;
  return grants.check(spec);
}
