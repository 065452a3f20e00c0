import path from 'node:path';
import type { EventBus } from '../contract/event-bus.js';
import type { HandlerRegistry } from '../contract/registry.js';
import { AppError } from '../contract/errors.js';
import { folderEntries } from '../files/folder-entries.js';
import { type FixedPresetName, TrainRequest } from '../contract/training.js';
import { createDemoProject } from '../dataset/demo-project.js';
import { planAutoPreset } from '../engine/auto/auto-preset.js';
import { PRESETS } from '../engine/model/presets.js';
import { RunFolder } from '../engine/runs/run-store.js';
import type { OpenProjects } from '../project/open-projects.js';
import { FolderBrowser } from './folder-browser.js';
import { DisplayRegions } from './display-regions.js';
import { displayImage, imageSamples, previewImage } from './image-display.js';
import { MaskService } from './mask-service.js';
import { DATA_FILE, readRegularFile } from '../files/regular-file.js';
import type { PathGrants } from './path-grants.js';

export interface StudioServiceDeps {
  registry: HandlerRegistry;
  events: EventBus;
  projects: OpenProjects;
  /** The folders paths from the page may name (the folder browser shows them too). */
  grants: PathGrants;
  /** A mask was saved through the editor (live assist reads it again). */
  maskSaved(project: string, imageId: string): void;
}

/** Binds the channels behind the studio UI (folder browser, demo, dataset edits, editor, training form). */
export function registerStudioChannels({ registry, events, projects, grants, maskSaved }: StudioServiceDeps): void {
  const folders = new FolderBrowser(() => grants.list());
  const masks = new MaskService();
  const displayRegions = new DisplayRegions();
  const browseRoots = async (project: string | undefined) => (project ? [{ label: 'Project', path: (await projects.get(project)).root }] : []);

  registry
    .register('fs.browse', async ({ path: folder, project, hidden }) => folders.browse({ path: folder, hidden }, await browseRoots(project)))
    .register('fs.preview', async ({ path: file, project, maxSide }) => {
      const { real } = await folders.resolveInside(file, await browseRoots(project));
      return { mime: 'image/webp', base64: (await previewImage(real, maxSide)).toString('base64') };
    })
    // Browser mode has no host-side dialog: a typed path is granted only when it already lies in the roots the host was started with.
    .register('fs.grant', async ({ path: requested }) => ({ path: await grants.check(requested) }))
    .register('demo.create', async ({ folder: requested, ...options }, { signal }) => {
      const folder = requested ? await grants.check(requested) : undefined;
      if (folder) await assertEmptyOrMissing(folder);
      const demo = await createDemoProject({ ...(folder ? { folder } : {}), ...options }, { signal });
      grants.allow(demo.folder, 'Demo');
      return { folder: demo.folder, project: demo.project.root, newImages: demo.newImagesDir, labelled: demo.report.labelled };
    })
    .register('images.update', async ({ project: root, ids, split, scribble, addTags, removeTags }) => {
      const project = await projects.get(root);
      const updated = await project.updateImages(ids, (entry) => ({
        ...(split ? { split } : {}),
        ...(scribble === undefined ? {} : { scribble }),
        tags: [...new Set([...entry.tags.filter((tag) => !removeTags.includes(tag)), ...addTags])],
      }));
      events.emit('project.changed', { project: project.root, reason: 'images' });
      return { updated };
    })
    .register('images.display', async ({ project, id }) => displayImage(await projects.get(project), id))
    .register('images.displayRegion', async (request) => displayRegions.region(await projects.get(request.project), request))
    .register('images.samples', async ({ project, id }) => imageSamples(await projects.get(project), id))
    .register('masks.get', async ({ project, id }) => masks.mask(await projects.get(project), id))
    .register('masks.patch', async ({ project: root, id, tiles }) => {
      const project = await projects.get(root);
      const image = await masks.patch(project, id, tiles);
      events.emit('project.changed', { project: project.root, reason: 'mask' });
      maskSaved(project.root, id);
      return { image, tiles: tiles.length };
    })
    .register('masks.thumbnail', async ({ project, id }) => masks.thumbnail(await projects.get(project), id))
    .register('predictions.get', async ({ project, id }) => masks.prediction(await projects.get(project), id))
    .register('train.presets', async ({ project: root }) => {
      const fixed = (Object.keys(PRESETS) as FixedPresetName[]).map((name) => ({ name, ...PRESETS[name], settings: { ...PRESETS[name].settings, timeBudgetSeconds: null }, choices: [] }));
      if (!root) return fixed;
      const auto = await planAutoPreset(await projects.get(root), TrainRequest.parse({ project: root }));
      return [{ name: 'auto' as const, description: auto.description, model: auto.model, settings: { ...auto.settings, timeBudgetSeconds: auto.timeBudgetSeconds }, choices: auto.choices }, ...fixed];
    })
    .register('runs.sample', async ({ project: root, runId, epoch }) => {
      const run = await RunFolder.open(await projects.get(root), runId);
      const file = run.sampleFile(epoch);
      const bytes = await readRegularFile(file, DATA_FILE).catch((err: unknown) => {
        throw err instanceof AppError && err.code === 'not_found' ? new AppError('not_found', `Run ${runId} has no validation picture for epoch ${epoch} (${file}).`, { file }) : err;
      });
      return { mime: 'image/png', base64: bytes.toString('base64') };
    });
}

async function assertEmptyOrMissing(folder: string): Promise<void> {
  const entries = await folderEntries(path.resolve(folder));
  if (entries.length > 0) throw new AppError('conflict', `${path.resolve(folder)} is not empty; choose a new or empty folder for the demo.`);
}
