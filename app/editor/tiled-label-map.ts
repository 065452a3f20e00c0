import { type Rect, intersectRect } from './rect.js';

/** Tile edge in pixels: a 256×256 tile is 64 KiB, small enough to copy per stroke, big enough to keep counts low. */
export const TILE_SIZE = 256;

/**
 * A label map (one class id per pixel) cut into square tiles, so an edit touches, copies and redraws
 * only the tiles it reaches. A tile that was never written is `null` and reads as `fill`; every
 * stored tile is a full TILE_SIZE² array (edge tiles leave their outside part unused).
 */
export class TiledLabelMap {
  readonly columns: number;
  readonly rows: number;
  private readonly tiles: Array<Uint8Array | null>;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly fill = 0,
    readonly tileSize = TILE_SIZE,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new RangeError(`A label map needs a positive whole size, not ${width}x${height}.`);
    }
    this.columns = Math.ceil(width / tileSize);
    this.rows = Math.ceil(height / tileSize);
    this.tiles = new Array<Uint8Array | null>(this.columns * this.rows).fill(null);
  }

  /** Cuts a row-major label array into tiles; tiles holding only `fill` stay unallocated. */
  static fromLabels(width: number, height: number, labels: Uint8Array, fill = 0, tileSize = TILE_SIZE): TiledLabelMap {
    if (labels.length !== width * height) throw new RangeError(`${labels.length} labels do not make a ${width}x${height} map.`);
    const map = new TiledLabelMap(width, height, fill, tileSize);
    for (let index = 0; index < map.tiles.length; index++) {
      const bounds = map.tileBounds(index);
      // Scanned first, with a plain loop: most tiles of a big mask hold only `fill` and are never allocated (this runs as a big image opens).
      if (!holdsOtherThan(labels, width, bounds, fill)) continue;
      const tile = new Uint8Array(tileSize * tileSize);
      if (fill !== 0) tile.fill(fill);
      for (let row = 0; row < bounds.height; row++) {
        const start = (bounds.y + row) * width + bounds.x;
        tile.set(labels.subarray(start, start + bounds.width), row * tileSize);
      }
      map.tiles[index] = tile;
    }
    return map;
  }

  get tileCount(): number {
    return this.tiles.length;
  }

  get(x: number, y: number): number {
    const tile = this.tiles[this.tileIndexAt(x, y)];
    return tile ? tile[(y % this.tileSize) * this.tileSize + (x % this.tileSize)]! : this.fill;
  }

  tileIndexAt(x: number, y: number): number {
    return Math.floor(y / this.tileSize) * this.columns + Math.floor(x / this.tileSize);
  }

  /** The part of the image a tile covers (edge tiles are smaller than TILE_SIZE). */
  tileBounds(index: number): Rect {
    const x = (index % this.columns) * this.tileSize;
    const y = Math.floor(index / this.columns) * this.tileSize;
    return { x, y, width: Math.min(this.tileSize, this.width - x), height: Math.min(this.tileSize, this.height - y) };
  }

  /** The tile's labels (row stride TILE_SIZE), or null while it holds only `fill`. Do not modify. */
  tileData(index: number): Uint8Array | null {
    return this.tiles[index] ?? null;
  }

  /** The tile's labels for writing, allocated (filled with `fill`) on first use. */
  writableTile(index: number): Uint8Array {
    let tile = this.tiles[index];
    if (!tile) this.tiles[index] = tile = new Uint8Array(this.tileSize * this.tileSize).fill(this.fill);
    return tile;
  }

  /** Replaces a tile's contents (undo and redo); the array is copied. */
  setTileData(index: number, data: Uint8Array | null): void {
    this.adoptTileData(index, data ? data.slice() : null);
  }

  /** Replaces a tile's contents with this array itself: the caller hands it over and no longer touches it. */
  adoptTileData(index: number, data: Uint8Array | null): void {
    this.tiles[index] = data;
  }

  /** Indices of the tiles a rectangle touches (clipped to the image). */
  tilesInRect(rect: Rect): number[] {
    const clipped = intersectRect(rect, { x: 0, y: 0, width: this.width, height: this.height });
    if (!clipped) return [];
    const indices: number[] = [];
    const firstColumn = Math.floor(clipped.x / this.tileSize);
    const lastColumn = Math.floor((clipped.x + clipped.width - 1) / this.tileSize);
    const firstRow = Math.floor(clipped.y / this.tileSize);
    const lastRow = Math.floor((clipped.y + clipped.height - 1) / this.tileSize);
    for (let row = firstRow; row <= lastRow; row++) {
      for (let column = firstColumn; column <= lastColumn; column++) indices.push(row * this.columns + column);
    }
    return indices;
  }

  /** A copy of a rectangle's labels, row-major with stride `rect.width`. */
  readRect(rect: Rect): Uint8Array {
    const out = new Uint8Array(rect.width * rect.height).fill(this.fill);
    for (const index of this.tilesInRect(rect)) {
      const tile = this.tiles[index];
      if (!tile) continue;
      const part = intersectRect(rect, this.tileBounds(index))!;
      const tileX = part.x % this.tileSize;
      const tileY = part.y % this.tileSize;
      for (let row = 0; row < part.height; row++) {
        const from = (tileY + row) * this.tileSize + tileX;
        out.set(tile.subarray(from, from + part.width), (part.y - rect.y + row) * rect.width + (part.x - rect.x));
      }
    }
    return out;
  }

  /** The whole map as one row-major array. */
  toLabels(): Uint8Array {
    return this.readRect({ x: 0, y: 0, width: this.width, height: this.height });
  }
}

/** True when some label inside `rect` of a row-major map differs from `fill`. */
function holdsOtherThan(labels: Uint8Array, width: number, rect: Rect, fill: number): boolean {
  for (let row = 0; row < rect.height; row++) {
    const start = (rect.y + row) * width + rect.x;
    for (let i = start, end = start + rect.width; i < end; i++) if (labels[i] !== fill) return true;
  }
  return false;
}
