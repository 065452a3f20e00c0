import type { Edit } from './edit.js';
import { type Rect, unionRect } from './rect.js';

/**
 * Fill holes: every 4-connected region of background (0) that is closed in by `label` alone (it
 * touches neither the image border nor any other class) becomes `label`, as ImageJ's Fill Holes does
 * for one class. Regions are walked as row spans with a stack of seeds, so memory stays at one byte
 * per pixel for the marks, whatever the size of a region. Returns the area changed, or null.
 */
export function fillHoles(edit: Edit, label: number): Rect | null {
  const { map } = edit;
  const { width, height } = map;
  if (label === 0) return null;
  const labels = map.readRect({ x: 0, y: 0, width, height });
  const seen = new Uint8Array(width * height);
  let dirty: Rect | null = null;
  for (let start = 0; start < labels.length; start++) {
    if (seen[start] === 1 || labels[start] !== 0) continue;
    const spans: number[] = [];
    let enclosed = true;
    const seeds = [start];
    while (seeds.length > 0) {
      const seed = seeds.pop()!;
      if (seen[seed] === 1) continue;
      const y = Math.floor(seed / width);
      const rowStart = y * width;
      let x0 = seed - rowStart;
      let x1 = x0;
      while (x0 > 0 && labels[rowStart + x0 - 1] === 0 && seen[rowStart + x0 - 1] === 0) x0--;
      while (x1 < width - 1 && labels[rowStart + x1 + 1] === 0 && seen[rowStart + x1 + 1] === 0) x1++;
      seen.fill(1, rowStart + x0, rowStart + x1 + 1);
      spans.push(y, x0, x1);
      // What closes the span in on the left and right: the border, or a pixel of the class.
      if (x0 === 0 || x1 === width - 1) enclosed = false;
      else if (!closes(labels[rowStart + x0 - 1]!, label) || !closes(labels[rowStart + x1 + 1]!, label)) enclosed = false;
      for (const row of [y - 1, y + 1]) {
        if (row < 0 || row >= height) {
          enclosed = false;
          continue;
        }
        let inRun = false;
        for (let x = x0; x <= x1; x++) {
          const index = row * width + x;
          const value = labels[index]!;
          const member = value === 0;
          if (member && !inRun && seen[index] === 0) seeds.push(index);
          else if (!closes(value, label)) enclosed = false;
          inRun = member;
        }
      }
    }
    if (!enclosed) continue;
    for (let i = 0; i < spans.length; i += 3) dirty = unionRect(dirty, edit.paintSpan(spans[i]!, spans[i + 1]!, spans[i + 2]!, label));
  }
  return dirty;
}

/** A neighbour keeps a background region a hole when it is background too (same region) or the class. */
function closes(value: number, label: number): boolean {
  return value === 0 || value === label;
}
