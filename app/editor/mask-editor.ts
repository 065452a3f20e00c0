import { IGNORE_LABEL } from '../contract/schemas.js';
import { Edit } from './edit.js';
import { EditHistory, type Restored } from './history.js';
import { copyLabels } from './raster.js';
import type { Point, Rect } from './rect.js';
import type { TiledLabelMap } from './tiled-label-map.js';
import { BrushTool } from './tools/brush-tool.js';
import { FillTool } from './tools/fill-tool.js';
import { PolygonTool } from './tools/polygon-tool.js';
import type { Tool, ToolContext, ToolEffect, ToolName } from './tools/tool.js';

export const MIN_BRUSH_RADIUS = 0.5;
export const MAX_BRUSH_RADIUS = 512;

/** Why the map changed: the view redraws `dirty`; the autosaver saves `tiles` once a step is done. */
export interface MaskChange {
  dirty: Rect;
  /** Tiles changed by a finished step (commit, undo, redo); empty while a stroke is still going. */
  tiles: number[];
}

/**
 * The editing session for one image's mask, free of any UI: the label map, the tools, the active
 * class and brush size, and the undo history. The view feeds it pointer events in image
 * coordinates and listens for changes.
 */
export class MaskEditor {
  readonly history: EditHistory;
  private readonly tools: Record<ToolName, Tool> = {
    brush: new BrushTool('brush'),
    eraser: new BrushTool('eraser'),
    polygon: new PolygonTool('polygon'),
    fill: new FillTool(),
    accept: new PolygonTool('accept'),
  };
  private toolName: ToolName = 'brush';
  private readonly listeners = new Set<(change: MaskChange) => void>();
  label = 1;
  brushRadius = 8;
  /** Image pixels per screen pixel × the close radius; the view updates it on zoom. */
  closeDistance = 6;
  prediction: TiledLabelMap | null = null;

  constructor(
    readonly map: TiledLabelMap,
    /** Class ids that may be painted: 0 … classCount-1 and IGNORE_LABEL. */
    readonly classCount: number,
    history = new EditHistory(),
  ) {
    this.history = history;
  }

  get tool(): ToolName {
    return this.toolName;
  }

  get activeTool(): Tool {
    return this.tools[this.toolName];
  }

  /** True while a stroke or polygon is in progress. */
  get busy(): boolean {
    return this.activeTool.busy;
  }

  onChange(listener: (change: MaskChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setTool(name: ToolName): void {
    if (name === this.toolName) return;
    this.apply(this.activeTool.cancel());
    this.toolName = name;
  }

  setLabel(label: number): void {
    if (label === IGNORE_LABEL || (Number.isInteger(label) && label >= 0 && label < this.classCount)) this.label = label;
  }

  setBrushRadius(radius: number): void {
    this.brushRadius = Math.min(MAX_BRUSH_RADIUS, Math.max(MIN_BRUSH_RADIUS, radius));
  }

  /** `[` and `]`: about 20 % per press, at least one pixel, so both small and huge brushes adjust quickly. */
  stepBrush(direction: 1 | -1): void {
    const step = Math.max(1, Math.round(this.brushRadius * 0.2));
    this.setBrushRadius(this.brushRadius + direction * step);
  }

  pointerDown(point: Point): void {
    this.apply(this.activeTool.down(point, this.context()));
  }

  pointerMove(point: Point): void {
    this.apply(this.activeTool.move(point, this.context()));
  }

  pointerUp(point: Point): void {
    this.apply(this.activeTool.up(point, this.context()));
  }

  /** Enter or double-click: finish a polygon. */
  complete(): void {
    this.apply(this.activeTool.complete(this.context()));
  }

  /** Escape: abandon what is in progress. */
  cancel(): void {
    this.apply(this.activeTool.cancel());
  }

  /**
   * Ends whatever is in progress so nothing is lost before a save, an image switch or closing: a
   * stroke is committed as it stands, an unfinished polygon is dropped.
   */
  settle(): void {
    const tool = this.activeTool;
    if (!tool.busy) return;
    if (tool instanceof BrushTool) this.complete();
    else this.cancel();
  }

  undo(): boolean {
    this.settle();
    return this.restored(this.history.undo(this.map));
  }

  redo(): boolean {
    this.settle();
    return this.restored(this.history.redo(this.map));
  }

  /** Copies the whole prediction into the mask as one undoable step. */
  acceptPrediction(): boolean {
    if (!this.prediction) return false;
    this.settle();
    const edit = new Edit(this.map, 'Accept prediction');
    const dirty = copyLabels(edit, this.prediction, null);
    this.apply({ dirty, committed: edit.finish() });
    return true;
  }

  private context(): ToolContext {
    return {
      map: this.map,
      label: this.label,
      eraseLabel: 0,
      brushRadius: this.brushRadius,
      closeDistance: this.closeDistance,
      prediction: this.prediction,
    };
  }

  private apply(effect: ToolEffect): void {
    if (effect.committed) this.history.push(effect.committed);
    const dirty = effect.committed?.bounds ?? effect.dirty;
    if (!dirty) return;
    this.emit({ dirty, tiles: effect.committed ? effect.committed.tiles.map((tile) => tile.index) : [] });
  }

  private restored(restored: Restored | null): boolean {
    if (!restored) return false;
    this.emit({ dirty: restored.bounds, tiles: restored.tiles });
    return true;
  }

  private emit(change: MaskChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
