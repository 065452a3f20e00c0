import { type Rect, intersectRect, unionRect } from '../../../../app/editor/rect.js';
import type { TiledLabelMap } from '../../../../app/editor/tiled-label-map.js';
import type { TileRenderer } from './tile-renderer.js';
import type { WorkHandle, WorkProgress } from './work-progress.svelte.js';

/** Changes up to this many tiles are recoloured at once (a brush dab touches a handful). */
const IMMEDIATE_TILES = 16;
/** Recolouring per frame, so a fill's or an undo's thousand tiles never hold up a frame. */
const FRAME_BUDGET_MS = 8;

/**
 * Recolours changed tiles of the mask, spread over animation frames when a change is big (an
 * undo of a whole-image fill, tiles streaming in from the fill worker): tiles in view first,
 * within a time budget per frame, redrawing the layer after each batch.
 */
export class TileRefreshQueue {
  private readonly pending = new Map<number, Rect>();
  private frame = 0;
  private work: { handle: WorkHandle; done: number; total: number } | null = null;

  constructor(
    private readonly map: TiledLabelMap,
    private readonly renderer: TileRenderer,
    private readonly view: () => Rect,
    private readonly redraw: () => void,
    private readonly progress: WorkProgress | null = null,
  ) {}

  /** Recolours `rect`, in all the tiles it touches or only in `tiles` when given (those known to have changed). */
  refresh(rect: Rect, tiles: readonly number[] = this.map.tilesInRect(rect)): void {
    if (tiles.length === 0) return;
    if (tiles.length <= IMMEDIATE_TILES && this.pending.size === 0) {
      for (const index of tiles) this.renderer.refresh(intersectRect(rect, this.map.tileBounds(index))!);
      this.redraw();
      return;
    }
    for (const index of tiles) {
      if (!this.pending.has(index) && this.work) this.work.total++;
      this.pending.set(index, unionRect(this.pending.get(index) ?? null, intersectRect(rect, this.map.tileBounds(index)))!);
    }
    if (this.progress && !this.work) this.work = { handle: this.progress.start('Drawing the mask', 'tiles', this.pending.size), done: 0, total: this.pending.size };
    this.frame ||= requestAnimationFrame(this.pump);
  }

  /** Tiles still waiting to be recoloured. */
  get size(): number {
    return this.pending.size;
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.pending.clear();
    this.work?.handle.end();
    this.work = null;
  }

  private readonly pump = (): void => {
    this.frame = 0;
    const start = performance.now();
    const view = this.view();
    const order = [...this.pending.keys()].sort((a, b) => Number(!intersectRect(this.map.tileBounds(a), view)) - Number(!intersectRect(this.map.tileBounds(b), view)) || a - b);
    for (const index of order) {
      this.renderer.refresh(this.pending.get(index)!);
      this.pending.delete(index);
      if (this.work) this.work.done++;
      if (performance.now() - start > FRAME_BUDGET_MS) break;
    }
    this.redraw();
    if (this.pending.size > 0) {
      this.work?.handle.update(this.work.done, this.work.total);
      this.frame = requestAnimationFrame(this.pump);
    } else {
      this.work?.handle.end();
      this.work = null;
    }
  };
}
