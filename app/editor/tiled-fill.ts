import type { Edit } from './edit.js';
import { polygonSpans } from './raster.js';
import { type Point, type Rect, unionRect } from './rect.js';

/**
 * Region edits (flood fill, polygon fill) as steps over the tiled label map, so whoever runs them
 * can stay responsive: a worker posts each step's tiles for drawing, a test drives them by hand.
 * Each step ends after about `sliceMs` of work and names the tiles written since the previous one.
 */
export type RegionOperation = { kind: 'fill'; x: number; y: number; value: number } | { kind: 'polygon'; points: Point[]; value: number };

/** A region edit with the name its undo step gets. */
export interface RegionRequest {
  label: string;
  operation: RegionOperation;
  /** Preserve labels: the labels that may change (see paintGuard); absent or null = all. */
  guard?: Uint8Array | null;
}

export interface RegionStep {
  /** Pixels written so far. */
  pixels: number;
  /** Tiles written since the previous step (they may be written again later). */
  tiles: number[];
}

export interface StepOptions {
  /** Work per step in milliseconds; 0 = one step per span (tests). */
  sliceMs?: number;
}

/** Work per step by default: well inside a frame, long enough that posting the tiles costs little. */
export const DEFAULT_SLICE_MS = 12;

/** Runs a region edit to its end at once; returns the area it changed. */
export function runRegion(edit: Edit, operation: RegionOperation): Rect | null {
  const steps = regionSteps(edit, operation, { sliceMs: Infinity });
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Flood fill at once (see floodFillSteps). */
export function floodFill(edit: Edit, x: number, y: number, value: number): Rect | null {
  return runRegion(edit, { kind: 'fill', x, y, value });
}

/** Polygon fill at once (see polygonFillSteps). */
export function fillPolygon(edit: Edit, points: Point[], value: number): Rect | null {
  return runRegion(edit, { kind: 'polygon', points, value });
}

export function regionSteps(edit: Edit, operation: RegionOperation, options: StepOptions = {}): Generator<RegionStep, Rect | null> {
  return operation.kind === 'fill'
    ? floodFillSteps(edit, Math.floor(operation.x), Math.floor(operation.y), operation.value, options)
    : polygonFillSteps(edit, operation.points, operation.value, options);
}

/** Collects written spans into steps: the tiles they touched and the time spent since the last step. */
class StepTracker {
  private readonly tiles = new Set<number>();
  private sliceStart = performance.now();
  private spans = 0;
  pixels = 0;
  dirty: Rect | null = null;

  constructor(
    private readonly edit: Edit,
    private readonly sliceMs: number,
  ) {}

  paint(y: number, x0: number, x1: number, value: number): void {
    const rect = this.edit.paintSpan(y, x0, x1, value);
    if (!rect) return;
    this.pixels += rect.width;
    this.dirty = unionRect(this.dirty, rect);
    const map = this.edit.map;
    const rowStart = Math.floor(y / map.tileSize) * map.columns;
    for (let column = Math.floor(rect.x / map.tileSize); column <= Math.floor((rect.x + rect.width - 1) / map.tileSize); column++) this.tiles.add(rowStart + column);
    this.spans++;
  }

  /** A step when the slice is used up (checked every few spans: reading the clock costs). */
  due(): RegionStep | null {
    if (this.sliceMs > 0 && (this.spans & 31) !== 0) return null;
    if (this.sliceMs > 0 && performance.now() - this.sliceStart < this.sliceMs) return null;
    return this.take();
  }

  take(): RegionStep | null {
    if (this.tiles.size === 0) return null;
    const step = { pixels: this.pixels, tiles: [...this.tiles] };
    this.tiles.clear();
    this.sliceStart = performance.now();
    return step;
  }
}

/**
 * Replaces the 4-connected region of equal labels around (x, y) with `value`: a scanline fill with
 * a stack of seeds (memory stays small even when the region is the whole image), reading each
 * neighbouring row's span as one copy out of its tiles.
 */
export function* floodFillSteps(edit: Edit, x: number, y: number, value: number, options: StepOptions = {}): Generator<RegionStep, Rect | null> {
  const { map } = edit;
  if (x < 0 || y < 0 || x >= map.width || y >= map.height) return null;
  const target = map.get(x, y);
  // A guarded region would never change, and its seeds would come back for ever.
  if (target === value || (edit.guard && edit.guard[target] !== 1)) return null;
  const tracker = new StepTracker(edit, options.sliceMs ?? DEFAULT_SLICE_MS);
  const seeds: number[] = [x, y];
  while (seeds.length > 0) {
    const seedY = seeds.pop()!;
    const seedX = seeds.pop()!;
    if (map.get(seedX, seedY) !== target) continue;
    let left = seedX;
    while (left > 0 && map.get(left - 1, seedY) === target) left--;
    let right = seedX;
    while (right < map.width - 1 && map.get(right + 1, seedY) === target) right++;
    tracker.paint(seedY, left, right, value);
    for (const row of [seedY - 1, seedY + 1]) {
      if (row < 0 || row >= map.height) continue;
      // One seed per run of target pixels in the neighbouring row.
      const labels = map.readRect({ x: left, y: row, width: right - left + 1, height: 1 });
      let inRun = false;
      for (let i = 0; i < labels.length; i++) {
        const matches = labels[i] === target;
        if (matches && !inRun) seeds.push(left + i, row);
        inRun = matches;
      }
    }
    const step = tracker.due();
    if (step) yield step;
  }
  const last = tracker.take();
  if (last) yield last;
  return tracker.dirty;
}

/** Fills a polygon (even-odd) with one label, top to bottom in steps. */
export function* polygonFillSteps(edit: Edit, points: readonly Point[], value: number, options: StepOptions = {}): Generator<RegionStep, Rect | null> {
  const spans: number[] = [];
  polygonSpans(points, edit.map.width, edit.map.height, (y, x0, x1) => spans.push(y, x0, x1));
  const tracker = new StepTracker(edit, options.sliceMs ?? DEFAULT_SLICE_MS);
  for (let i = 0; i < spans.length; i += 3) {
    tracker.paint(spans[i]!, spans[i + 1]!, spans[i + 2]!, value);
    const step = tracker.due();
    if (step) yield step;
  }
  const last = tracker.take();
  if (last) yield last;
  return tracker.dirty;
}
