import os from 'node:os';
import path from 'node:path';
import { EventBus } from '../contract/event-bus.js';
import { HandlerRegistry } from '../contract/registry.js';
import type { ImportRequest } from '../contract/schemas.js';
import { registerStudioChannels } from './studio-services.js';
import { registerInferenceChannels } from './inference-services.js';
import { registerProjectEditChannels } from './project-edit-services.js';
import { type NativeDialogs, registerDialogChannels } from './dialog-services.js';
import { exportDataset } from '../dataset/export-dataset.js';
import { TrainingService } from '../engine/training-service.js';
import { LiveService } from '../live/live-service.js';
import { forkWorker, type WorkerLauncher } from '../jobs/worker-process.js';
import { runImporter } from '../dataset/worker/importer-host.js';
import { runImportCheck } from '../dataset/worker/checker-host.js';
import { runExporter } from '../export/worker/exporter-host.js';
import { readRaster } from '../imaging/read-image.js';
import { writeThumbnail } from '../imaging/thumbnail.js';
import { JobManager } from '../jobs/job-manager.js';
import { describeFileError } from '../files/file-errors.js';
import { OpenProjects } from '../project/open-projects.js';
import type { Project } from '../project/project.js';
import { thumbnailRelativePath } from '../project/project-layout.js';
import { makeFolder } from '../files/make-folder.js';
import { DATA_FILE, readRegularFile } from '../files/regular-file.js';
import { RecentProjects } from '../settings/recent-projects.js';
import { assertProjectModel } from '../inference/project-models.js';
import { PathGrants, type PathGrantsOptions } from './path-grants.js';

export interface AppServices {
  registry: HandlerRegistry;
  events: EventBus;
  jobs: JobManager;
  projects: OpenProjects;
  recent: RecentProjects;
  /** The folders paths from the page may name (docs/SECURITY.md); hosts add what their dialogs pick. */
  grants: PathGrants;
  close(): Promise<void>;
}

export interface AppServicesOptions {
  /**
   * How worker processes start (training, batch segmentation, predictions, imports, model export):
   * child_process.fork by default, Electron's utilityProcess on the desktop.
   */
  launchWorker?: WorkerLauncher;
  /** The root of the browser-mode folder browser (default: the user's home); tests use a temp folder. */
  browseHome?: string;
  /** The per-user settings folder (recent projects); without one they are kept in memory only. */
  settingsDir?: string;
  /** Native file dialogs (the desktop); without them the dialog channels are not served (browser mode). */
  dialogs?: NativeDialogs;
  /**
   * Which folders the page may use: by default (browser mode) the browse home without its hidden
   * parts; the desktop passes `{ home: null }` and grants what its dialogs pick.
   */
  grants?: PathGrantsOptions;
}

/** Binds every contract channel to its service; the browser host and Electron's main share this. */
export function createAppServices(options: AppServicesOptions = {}): AppServices {
  const events = new EventBus();
  const jobs = new JobManager(events);
  const grants = new PathGrants(options.grants ?? { home: options.browseHome ?? os.homedir() });
  const projects = new OpenProjects((project) => grants.allow(project.root, 'Project'));
  const recent = new RecentProjects(options.settingsDir ?? null);
  const registry = new HandlerRegistry(describeFileError);
  const launchWorker = options.launchWorker ?? forkWorker;
  const training = new TrainingService(jobs, events, projects, launchWorker);
  const live = new LiveService(events, projects, launchWorker);
  const changed = (project: Project, reason: string) => events.emit('project.changed', { project: project.root, reason });

  /** Opening or creating a project puts it first among the recent ones. */
  const opened = async (project: Project) => {
    await recent.add({ path: project.root, name: project.name });
    return project.summary();
  };

  registry
    .register('project.create', async ({ path: root, name, classes }) => opened(await projects.create(await grants.check(root), { classes, ...(name ? { name } : {}) })))
    // Any existing project may be opened (it must hold a project.json); opening grants its folder.
    .register('project.open', async ({ path: root }) => opened(await projects.get(grants.absolute(root))))
    .register('project.setClasses', async ({ project: root, classes }) => {
      const project = await projects.get(root);
      await project.setClasses(classes);
      changed(project, 'classes');
      return project.summary();
    })
    .register('project.setScribble', async ({ project: root, scribble }) => {
      const project = await projects.get(root);
      await project.setScribble(scribble);
      changed(project, 'settings');
      return project.summary();
    })
    .register('project.setModelInUse', async ({ project: root, model }) => {
      const project = await projects.get(root);
      if (model !== null) await assertProjectModel(project, model);
      await project.setModelInUse(model);
      changed(project, 'model');
      return project.summary();
    })
    .register('recent.list', async () => recent.list())
    .register('recent.forget', async ({ path: root }) => {
      await recent.forget(root);
      return recent.list();
    })
    .register('images.list', async ({ project: root, ...query }) => (await projects.get(root)).list(query))
    .register('images.thumbnail', async ({ project: root, id }) => {
      const project = await projects.get(root);
      return { mime: 'image/webp', base64: (await thumbnail(project, id)).toString('base64') };
    })
    .register('import.check', async (sent) => {
      const request = await grantedSources(grants, sent);
      const project = await projects.get(request.project);
      const job = jobs.start('import-check', `Check an import into ${project.name}`, ({ signal, progress }) => runImportCheck(launchWorker, { ...request, project: project.root }, { signal, onProgress: progress }));
      return { jobId: job.id };
    })
    .register('import.start', async (sent) => {
      const request = await grantedSources(grants, sent);
      const project = await projects.get(request.project);
      const job = jobs.start('import', `Import into ${project.name}`, async ({ signal, progress }) => {
        try {
          return await runImporter(launchWorker, project, request, { signal, onProgress: progress });
        } finally {
          changed(project, 'import');
        }
      });
      return { jobId: job.id };
    })
    .register('dataset.export', async ({ project: root, ...request }) => {
      const project = await projects.get(root);
      await grants.check(request.out);
      const job = jobs.start('export-dataset', `Export ${project.name} to ${request.out}`, ({ signal, progress }) =>
        exportDataset(project, request, { signal, onProgress: progress }),
      );
      return { jobId: job.id };
    })
    .register('train.start', async (request) => training.start(request))
    .register('runs.list', async ({ project }) => training.runs(project))
    .register('runs.metrics', async ({ project, runId }) => training.metrics(project, runId))
    .register('model.export', async (request, { signal }) => {
      const project = await projects.get(request.project);
      return runExporter(launchWorker, { ...request, project: project.root, out: await grants.check(request.out) }, signal);
    })
    .register('live.start', async (request, { connection }) => live.start(request, connection))
    .register('live.focus', async ({ sessionId, imageId, view }) => ({ ok: live.focus(sessionId, imageId, view) }))
    .register('live.stop', async ({ sessionId }) => ({ stopped: await live.stop(sessionId) }))
    .register('live.save', async ({ sessionId }) => {
      const runId = await live.save(sessionId);
      return { runId };
    })
    .register('jobs.list', async () => jobs.list())
    .register('jobs.cancel', async ({ jobId }) => ({ cancelled: jobs.cancel(jobId) }));
  registerInferenceChannels({ registry, jobs, projects, grants, changed, launchWorker });
  registerStudioChannels({ registry, events, projects, grants, maskSaved: (project, id) => live.maskSaved(project, id) });
  const projectEdits = registerProjectEditChannels({ registry, projects, changed });
  if (options.dialogs) registerDialogChannels(registry, options.dialogs, grants);

  return {
    registry,
    events,
    jobs,
    projects,
    recent,
    grants,
    async close() {
      jobs.cancelAll();
      await live.close();
      await projectEdits.close();
    },
  };
}

/** The image, mask and region folders of an import, each inside the granted folders. */
async function grantedSources(grants: PathGrants, request: ImportRequest): Promise<ImportRequest> {
  const images = await Promise.all(request.images.map((file) => grants.check(file)));
  return { ...request, images, ...(request.masks ? { masks: await grants.check(request.masks) } : {}), ...(request.roi ? { roi: await grants.check(request.roi) } : {}) };
}

/** The cached thumbnail, regenerated from the image when the cache was deleted. */
async function thumbnail(project: Project, id: string): Promise<Buffer> {
  const image = project.image(id);
  const file = await project.resolve(thumbnailRelativePath(image.id));
  const cached = await readRegularFile(file, DATA_FILE).catch(() => null); // absent or damaged: made again below
  if (cached) return cached;
  const raster = await readRaster(await project.resolve(image.file), { maxPixels: project.settings.maxImagePixels, page: image.page });
  await makeFolder(path.dirname(file));
  await writeThumbnail(raster, file);
  return readRegularFile(file, DATA_FILE);
}
