import { type Rect, unionRect } from './rect.js';
import type { TiledLabelMap } from './tiled-label-map.js';

/** One tile's contents before and after an edit (null = the tile held only the fill value). */
export interface TileChange {
  index: number;
  before: Uint8Array | null;
  after: Uint8Array | null;
}

/** What one undoable step changed: only the tiles it touched, never a whole-image snapshot. */
export interface Patch {
  label: string;
  tiles: TileChange[];
  bounds: Rect;
}

/**
 * Collects the changes of one undoable step (a stroke, a fill): the first write into a tile keeps a
 * copy of what the tile held, and `finish` pairs it with the result, dropping tiles that ended unchanged.
 */
export class Edit {
  private readonly before = new Map<number, Uint8Array | null>();
  private bounds: Rect | null = null;

  constructor(
    readonly map: TiledLabelMap,
    readonly label: string,
    /**
     * Preserve labels: when set, only pixels whose current label `l` has `guard[l] === 1` change
     * (see paintGuard); null paints every pixel.
     */
    readonly guard: Uint8Array | null = null,
  ) {}

  /** Sets labels [x0, x1] (inclusive, clipped) on row y, skipping guarded pixels; returns the rectangle covered or null. */
  paintSpan(y: number, x0: number, x1: number, value: number): Rect | null {
    const { map } = this;
    if (y < 0 || y >= map.height) return null;
    const start = Math.max(0, x0);
    const end = Math.min(map.width - 1, x1);
    if (end < start) return null;
    const size = map.tileSize;
    const tileRow = Math.floor(y / size);
    const offsetY = (y % size) * size;
    for (let x = start; x <= end; ) {
      const column = Math.floor(x / size);
      const tileEnd = Math.min(end, (column + 1) * size - 1);
      const tile = this.tileForWrite(tileRow * map.columns + column);
      const from = offsetY + (x % size);
      const to = offsetY + (tileEnd % size) + 1;
      if (this.guard) {
        for (let i = from; i < to; i++) if (this.guard[tile[i]!] === 1) tile[i] = value;
      } else tile.fill(value, from, to);
      x = tileEnd + 1;
    }
    const rect = { x: start, y, width: end - start + 1, height: 1 };
    this.bounds = unionRect(this.bounds, rect);
    return rect;
  }

  /** Sets one label (used by fills that copy per pixel). */
  setPixel(x: number, y: number, value: number): void {
    const { map } = this;
    const size = map.tileSize;
    this.tileForWrite(map.tileIndexAt(x, y))[(y % size) * size + (x % size)] = value;
  }

  /** Marks a rectangle written through setPixel as touched, for redraw. */
  touch(rect: Rect): void {
    this.bounds = unionRect(this.bounds, rect);
  }

  /** The tile's labels for writing, remembering its previous contents the first time. */
  tileForWrite(index: number): Uint8Array {
    if (!this.before.has(index)) {
      const current = this.map.tileData(index);
      this.before.set(index, current ? current.slice() : null);
    }
    return this.map.writableTile(index);
  }

  get touchedTiles(): number {
    return this.before.size;
  }

  /** The undoable step, or null when nothing actually changed. */
  finish(): Patch | null {
    const tiles: TileChange[] = [];
    for (const [index, before] of this.before) {
      const current = this.map.tileData(index)!;
      const after = isUniform(current, this.map.fill) ? null : current.slice();
      if (!sameTile(before, after, this.map.fill)) tiles.push({ index, before, after });
    }
    this.before.clear();
    if (tiles.length === 0 || !this.bounds) return null;
    return { label: this.label, tiles, bounds: this.bounds };
  }

  /** Puts every touched tile back as it was (an abandoned stroke). Returns the area to redraw. */
  revert(): Rect | null {
    for (const [index, before] of this.before) this.map.setTileData(index, before);
    this.before.clear();
    return this.bounds;
  }
}

function isUniform(tile: Uint8Array, value: number): boolean {
  for (let i = 0; i < tile.length; i++) if (tile[i] !== value) return false;
  return true;
}

/** Whether two tiles hold the same labels (null reads as all `fill`). */
export function sameTile(a: Uint8Array | null, b: Uint8Array | null, fill: number): boolean {
  if (a === null && b === null) return true;
  if (a === null) return isUniform(b!, fill);
  if (b === null) return isUniform(a, fill);
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
