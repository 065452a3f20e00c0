import type { Edit } from './edit.js';
import { type Point, type Rect, unionRect } from './rect.js';
import type { TiledLabelMap } from './tiled-label-map.js';

/**
 * Pixel operations behind the tools. A pixel (x, y) is "inside" a shape when its centre
 * (x + 0.5, y + 0.5) is; every operation writes whole row spans through an Edit.
 */

/** The row range [x0, x1] of pixel indices whose centres lie in [low, high]. */
function pixelSpan(low: number, high: number): [number, number] {
  return [Math.ceil(low - 0.5), Math.floor(high - 0.5)];
}

/** Values of x with lo <= coef*x + constant <= hi, as [min, max] (possibly empty: min > max). */
function linearRange(coef: number, constant: number, lo: number, hi: number): [number, number] {
  if (coef === 0) return constant >= lo && constant <= hi ? [-Infinity, Infinity] : [Infinity, -Infinity];
  const a = (lo - constant) / coef;
  const b = (hi - constant) / coef;
  return a < b ? [a, b] : [b, a];
}

/**
 * Paints every pixel within `radius` of the segment a–b (a round-capped thick line, a disc when
 * a = b). The shape is convex, so each row is one span: the union of the two end discs and the band.
 */
export function paintCapsule(edit: Edit, a: Point, b: Point, radius: number, value: number): Rect | null {
  const top = Math.max(0, Math.floor(Math.min(a.y, b.y) - radius - 1));
  const bottom = Math.min(edit.map.height - 1, Math.ceil(Math.max(a.y, b.y) + radius + 1));
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const lengthSquared = dx * dx + dy * dy;
  const length = Math.sqrt(lengthSquared);
  let dirty: Rect | null = null;
  for (let y = top; y <= bottom; y++) {
    const cy = y + 0.5;
    let low = Infinity;
    let high = -Infinity;
    for (const end of [a, b]) {
      const h = radius * radius - (cy - end.y) ** 2;
      if (h >= 0) {
        const half = Math.sqrt(h);
        low = Math.min(low, end.x - half);
        high = Math.max(high, end.x + half);
      }
    }
    if (lengthSquared > 0) {
      // Projection onto a–b within [0, L²] and distance from the line within radius: both linear in x.
      const along = linearRange(dx, (cy - a.y) * dy - a.x * dx, 0, lengthSquared);
      const across = linearRange(-dy, dx * (cy - a.y) + dy * a.x, -radius * length, radius * length);
      const bandLow = Math.max(along[0], across[0]);
      const bandHigh = Math.min(along[1], across[1]);
      if (bandLow <= bandHigh) {
        low = Math.min(low, bandLow);
        high = Math.max(high, bandHigh);
      }
    }
    if (low > high) continue;
    const [x0, x1] = pixelSpan(low, high);
    dirty = unionRect(dirty, edit.paintSpan(y, x0, x1, value));
  }
  return dirty;
}

/** Calls `span(y, x0, x1)` for each row run inside a polygon (even-odd rule), clipped to the map. */
export function polygonSpans(points: readonly Point[], width: number, height: number, span: (y: number, x0: number, x1: number) => void): void {
  if (points.length < 3) return;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const point of points) {
    minY = Math.min(minY, point.y);
    maxY = Math.max(maxY, point.y);
  }
  const top = Math.max(0, Math.ceil(minY - 0.5));
  const bottom = Math.min(height - 1, Math.floor(maxY - 0.5));
  // Edges bucketed by their first row, so each row only looks at the edges crossing it.
  const startingAt = new Map<number, Array<{ x: number; slope: number; lastRow: number }>>();
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const q = points[(i + 1) % points.length]!;
    if (p.y === q.y) continue;
    const [upper, lower] = p.y < q.y ? [p, q] : [q, p];
    const firstRow = Math.max(top, Math.ceil(upper.y - 0.5));
    const lastRow = Math.min(bottom, Math.ceil(lower.y - 0.5) - 1); // half-open at the lower end
    if (lastRow < firstRow) continue;
    const slope = (lower.x - upper.x) / (lower.y - upper.y);
    const edge = { x: upper.x + (firstRow + 0.5 - upper.y) * slope, slope, lastRow };
    const bucket = startingAt.get(firstRow);
    if (bucket) bucket.push(edge);
    else startingAt.set(firstRow, [edge]);
  }
  let active: Array<{ x: number; slope: number; lastRow: number }> = [];
  const crossings: number[] = [];
  for (let y = top; y <= bottom; y++) {
    const starting = startingAt.get(y);
    if (starting) active.push(...starting);
    if (active.length === 0) continue;
    crossings.length = 0;
    for (const edge of active) crossings.push(edge.x);
    crossings.sort((m, n) => m - n);
    for (let i = 0; i + 1 < crossings.length; i += 2) {
      const [x0, x1] = pixelSpan(crossings[i]!, crossings[i + 1]!);
      const from = Math.max(0, x0);
      const to = Math.min(width - 1, x1);
      if (from <= to) span(y, from, to);
    }
    active = active.filter((edge) => edge.lastRow > y);
    for (const edge of active) edge.x += edge.slope;
  }
}

/** Fills a polygon (even-odd) with one label. */
export function fillPolygon(edit: Edit, points: readonly Point[], value: number): Rect | null {
  let dirty: Rect | null = null;
  polygonSpans(points, edit.map.width, edit.map.height, (y, x0, x1) => {
    dirty = unionRect(dirty, edit.paintSpan(y, x0, x1, value));
  });
  return dirty;
}

/**
 * Replaces the 4-connected region of equal labels around (x, y) with `value` (scanline fill with a
 * stack of seeds, so memory stays small even when the region is the whole image).
 */
export function floodFill(edit: Edit, x: number, y: number, value: number): Rect | null {
  const { map } = edit;
  if (x < 0 || y < 0 || x >= map.width || y >= map.height) return null;
  const target = map.get(x, y);
  // A guarded region (preserve labels) would never change, and its seeds would come back for ever.
  if (target === value || (edit.guard && edit.guard[target] !== 1)) return null;
  let dirty: Rect | null = null;
  const seeds: number[] = [x, y];
  while (seeds.length > 0) {
    const seedY = seeds.pop()!;
    const seedX = seeds.pop()!;
    if (map.get(seedX, seedY) !== target) continue;
    let left = seedX;
    while (left > 0 && map.get(left - 1, seedY) === target) left--;
    let right = seedX;
    while (right < map.width - 1 && map.get(right + 1, seedY) === target) right++;
    dirty = unionRect(dirty, edit.paintSpan(seedY, left, right, value));
    for (const row of [seedY - 1, seedY + 1]) {
      if (row < 0 || row >= map.height) continue;
      // One seed per run of target pixels in the neighbouring row.
      let inRun = false;
      for (let column = left; column <= right; column++) {
        const matches = map.get(column, row) === target;
        if (matches && !inRun) seeds.push(column, row);
        inRun = matches;
      }
    }
  }
  return dirty;
}

/** Copies `source` labels into the map inside `region` (a polygon) or everywhere when region is null. */
export function copyLabels(edit: Edit, source: TiledLabelMap, region: readonly Point[] | null): Rect | null {
  const { map } = edit;
  if (source.width !== map.width || source.height !== map.height) {
    throw new RangeError(`The prediction is ${source.width}x${source.height} but the mask is ${map.width}x${map.height}.`);
  }
  if (region === null) {
    for (let index = 0; index < map.tileCount; index++) {
      const from = source.tileData(index);
      if (from === null && map.tileData(index) === null && source.fill === map.fill) continue;
      const tile = edit.tileForWrite(index);
      if (from) tile.set(from);
      else tile.fill(source.fill);
    }
    const all = { x: 0, y: 0, width: map.width, height: map.height };
    edit.touch(all);
    return all;
  }
  let dirty: Rect | null = null;
  polygonSpans(region, map.width, map.height, (y, x0, x1) => {
    const labels = source.readRect({ x: x0, y, width: x1 - x0 + 1, height: 1 });
    // Runs of equal labels become spans, so big uniform areas cost one fill each.
    let runStart = x0;
    for (let x = x0 + 1; x <= x1 + 1; x++) {
      if (x > x1 || labels[x - x0] !== labels[runStart - x0]) {
        edit.paintSpan(y, runStart, x - 1, labels[runStart - x0]!);
        runStart = x;
      }
    }
    dirty = unionRect(dirty, { x: x0, y, width: x1 - x0 + 1, height: 1 });
  });
  return dirty;
}
