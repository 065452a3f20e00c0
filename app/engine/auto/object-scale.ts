import type { ImageEntry } from '../../contract/schemas.js';
import { IGNORE_LABEL } from '../../contract/schemas.js';
import { readMaskPng } from '../../masks/mask-png.js';
import type { Project } from '../../project/project.js';

/** Masks read to judge object size: enough for a stable median, few enough to stay quick. */
const SAMPLED_MASKS = 12;
/** Smaller components are specks of painting, not objects. */
const MIN_COMPONENT_PIXELS = 9;

/**
 * The median size of the labelled objects, as the diameter of a disc of the same area, in pixels
 * of the original images: every 4-connected region of one foreground class is an object. Read from
 * up to 12 masks spread over the project. Null when the masks have no foreground.
 */
export async function medianObjectDiameter(project: Project, entries: readonly ImageEntry[], signal?: AbortSignal): Promise<number | null> {
  const labelled = entries.filter((entry) => entry.mask !== null);
  const step = Math.max(1, labelled.length / SAMPLED_MASKS);
  const diameters: number[] = [];
  for (let index = 0; index < labelled.length && diameters.length < 10_000; index += step) {
    signal?.throwIfAborted();
    const mask = await readMaskPng(await project.resolve(labelled[Math.floor(index)]!.mask!));
    for (const area of componentAreas(mask.labels, mask.width)) {
      if (area >= MIN_COMPONENT_PIXELS) diameters.push(2 * Math.sqrt(area / Math.PI));
    }
  }
  if (diameters.length === 0) return null;
  diameters.sort((a, b) => a - b);
  return diameters[Math.floor(diameters.length / 2)]!;
}

/** Pixel counts of the 4-connected regions of each foreground class (not background 0, not ignored 255). */
export function componentAreas(labels: Uint8Array, width: number): number[] {
  const seen = new Uint8Array(labels.length);
  const stack = new Int32Array(labels.length);
  const areas: number[] = [];
  for (let start = 0; start < labels.length; start++) {
    const label = labels[start]!;
    if (seen[start] || label === 0 || label === IGNORE_LABEL) continue;
    let top = 0;
    let area = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const pixel = stack[--top]!;
      area++;
      const x = pixel % width;
      for (const next of [x > 0 ? pixel - 1 : -1, x < width - 1 ? pixel + 1 : -1, pixel - width, pixel + width]) {
        if (next < 0 || next >= labels.length || seen[next] || labels[next] !== label) continue;
        seen[next] = 1;
        stack[top++] = next;
      }
    }
    areas.push(area);
  }
  return areas;
}
