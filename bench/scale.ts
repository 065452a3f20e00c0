import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImageEntry } from '../app/contract/schemas.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import type { BenchResult } from './bench-result.js';

const IMAGES = 10_000;
const REPEATS = 5;

/** Goal: opening a 10,000-image project and listing it takes under 1 s on the 2-core dev machines. */
export async function benchScale(): Promise<BenchResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unet-bench-scale-'));
  try {
    const root = path.join(dir, 'big');
    const project = await Project.create(root, { classes: ['cell', 'nucleus'] });
    await project.addImages(Array.from({ length: IMAGES }, (_, index) => fakeEntry(index)));

    const openMs: number[] = [];
    const listMs: number[] = [];
    const searchMs: number[] = [];
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      // A fresh host each time, so nothing is cached between measurements.
      const services = createAppServices();
      const signal = new AbortController().signal;
      let start = performance.now();
      const opened = await services.registry.dispatch('project.open', { path: root }, { signal });
      openMs.push(performance.now() - start);
      start = performance.now();
      const listed = await services.registry.dispatch('images.list', { project: root, limit: 10_000 }, { signal });
      listMs.push(performance.now() - start);
      start = performance.now();
      await services.registry.dispatch('images.list', { project: root, search: 'plate-7', limit: 500 }, { signal });
      searchMs.push(performance.now() - start);
      if (!opened.ok || !listed.ok) throw new Error('open or list failed');
    }
    const saveMs: number[] = [];
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      const start = performance.now();
      await project.updateImage(project.images[repeat]!.id, { tags: ['bench'] });
      saveMs.push(performance.now() - start);
    }
    const figures = {
      images: IMAGES,
      saveProjectJsonMedianMs: median(saveMs),
      openMedianMs: median(openMs),
      listAllMedianMs: median(listMs),
      searchMedianMs: median(searchMs),
      openPlusListMedianMs: median(openMs.map((ms, index) => ms + listMs[index]!)),
    };
    return { name: 'scale', figures, goals: { openPlusListUnderMs: 1000, met: figures.openPlusListMedianMs < 1000 } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function fakeEntry(index: number): ImageEntry {
  const id = `plate-${Math.floor(index / 96)}_well-${index % 96}`;
  return {
    id, file: `images/${id}.tif`, page: 0, originalName: `${id}.tif`, contentHash: index.toString(16).padStart(64, '0'),
    format: 'tiff', width: 2048, height: 2048, channels: 1, bitDepth: 16, status: index % 3 ? 'labelled' : 'unlabelled',
    split: 'auto', tags: index % 10 ? [] : ['checked'], mask: index % 3 ? `masks/${id}.png` : null, addedAt: new Date(0).toISOString(),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)]! * 10) / 10;
}
