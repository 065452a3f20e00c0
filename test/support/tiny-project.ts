import path from 'node:path';
import { ImportRequest } from '../../app/contract/schemas.js';
import { importImages } from '../../app/dataset/import-images.js';
import { generateSynthetic } from '../../app/dataset/synthetic.js';
import { Project } from '../../app/project/project.js';

/** A small labelled project of synthetic cells, quick enough to train on in a test. */
export async function tinyProject(dir: string, options: { count?: number; size?: number; classes?: 2 | 3 } = {}): Promise<Project> {
  const classes = options.classes ?? 2;
  const data = await generateSynthetic({ outDir: path.join(dir, 'data'), count: options.count ?? 10, width: options.size ?? 32, height: options.size ?? 32, classes });
  const project = await Project.create(path.join(dir, 'project'), { classes: classes === 2 ? ['cell'] : ['cytoplasm', 'nucleus'] });
  await importImages(project, ImportRequest.parse({ project: project.root, images: [data.imagesDir], masks: data.masksDir }));
  return project;
}

/** Training settings for tests: tiny model, full-size images, no augmentation. */
export const TINY_SETTINGS = {
  batchSize: 4,
  sizing: { mode: 'scale', scale: 1 },
  validationPercent: 30,
  augmentation: { flips: false, rotate90: false },
} as const;
