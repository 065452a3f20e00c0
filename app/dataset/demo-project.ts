import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImportRequest, type ImportReport } from '../contract/schemas.js';
import { Project } from '../project/project.js';
import { type ImportCallbacks, importImages } from './import-images.js';
import { generateSynthetic } from './synthetic.js';

export interface DemoOptions {
  /** Default: a fresh folder in the OS temp directory. */
  folder?: string;
  count: number;
  size: number;
  classes: 2 | 3;
  seed: number;
}

export interface DemoProject {
  folder: string;
  project: Project;
  /** Extra unlabelled images, for trying batch segmentation. */
  newImagesDir: string;
  report: ImportReport;
}

/** Number of extra images generated beside the labelled ones, for batch segmentation. */
const NEW_IMAGES = 8;

/**
 * The demo: synthetic labelled cells in <folder>/data, a few new images in <folder>/new, and a
 * project in <folder>/project with the labelled ones imported. Shared by `unet-studio demo` and the
 * studio's "try the demo project".
 */
export async function createDemoProject(options: DemoOptions, callbacks: ImportCallbacks = {}): Promise<DemoProject> {
  const folder = path.resolve(options.folder ?? (await mkdtemp(path.join(os.tmpdir(), 'unet-studio-demo-'))));
  const { count, size, classes, seed } = options;
  const labelled = await generateSynthetic({ outDir: path.join(folder, 'data'), count, width: size, height: size, seed, classes });
  const fresh = await generateSynthetic({ outDir: path.join(folder, 'new'), count: NEW_IMAGES, width: size, height: size, seed: seed + 1_000_003, classes });
  const project = await Project.create(path.join(folder, 'project'), {
    name: classes === 2 ? 'Demo cells' : 'Demo cells (3 classes)',
    classes: classes === 2 ? ['cell'] : ['cytoplasm', 'nucleus'],
  });
  const request = ImportRequest.parse({ project: project.root, images: [labelled.imagesDir], masks: labelled.masksDir });
  const report = await importImages(project, request, callbacks);
  return { folder, project, newImagesDir: fresh.imagesDir, report };
}
