import { IGNORE_LABEL } from '../contract/schemas.js';
import type { MaskCommand } from './commands.js';
import { Edit, type Patch } from './edit.js';
import { fillHoles } from './fill-holes.js';
import { EditHistory, type Restored } from './history.js';
import { copyLabels } from './raster.js';
import type { Point, Rect } from './rect.js';
import { unionRect } from './rect.js';
import type { RegionRunner, TileUpdate } from './region-runner.js';
import type { RegionRequest } from './tiled-fill.js';
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
  /**
   * While a region edit runs and as it settles: the only tiles whose pixels changed. Their bounds
   * span much of the image (a fill's front), so the view redraws these rather than all of `dirty`.
   */
  redrawn?: number[];
}

/** What the view shows of the editor besides the pixels; a new object whenever any of it changes. */
export interface MaskEditorState {
  tool: ToolName;
  label: number;
  brushRadius: number;
  canUndo: boolean;
  canRedo: boolean;
  /** A stroke or a polygon is in progress. */
  busy: boolean;
  /** Preserve labels: paint only pixels without a class, erase only the selected class. */
  preserveLabels: boolean;
  /** The eraser paints unlabelled (255) instead of background (0). */
  eraseToUnlabelled: boolean;
}

/**
 * The editing session for one image's mask, free of any UI: the label map, the tools, the active
 * class and brush size, and the undo history. It is the store the view draws from: commands come
 * in through `execute` (keys, menu and toolbar alike) and pointer events in image coordinates;
 * `onChange` reports changed pixels, `subscribe` every other change of `state`.
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
  private readonly stateListeners = new Set<() => void>();
  private snapshot: MaskEditorState | null = null;
  private activeLabel = 1;
  private radius = 8;
  private preserve = false;
  private eraseUnlabelled = false;
  /** Image pixels per screen pixel × the close radius; the view updates it on zoom. */
  closeDistance = 6;
  prediction: TiledLabelMap | null = null;
  /** Where fills run when set (a worker in the studio), so big ones never block the view. */
  regionRunner: RegionRunner | null = null;
  /** The region edit under way: its tiles shown so far replaced these (to put back on cancel). */
  private region: { controller: AbortController; replaced: Map<number, Uint8Array | null> } | null = null;

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

  /** The class painted by brush, polygon and fill. */
  get label(): number {
    return this.activeLabel;
  }

  /** Brush radius in image pixels. */
  get brushRadius(): number {
    return this.radius;
  }

  get activeTool(): Tool {
    return this.tools[this.toolName];
  }

  /** True while a stroke or polygon is in progress, or a fill is being computed. */
  get busy(): boolean {
    return this.activeTool.busy || this.region !== null;
  }

  onChange(listener: (change: MaskChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The tool, class, brush and history as the view shows them (the same object until one changes). */
  get state(): MaskEditorState {
    this.snapshot ??= {
      tool: this.toolName,
      label: this.label,
      brushRadius: this.brushRadius,
      canUndo: this.history.canUndo,
      canRedo: this.history.canRedo,
      busy: this.busy,
      preserveLabels: this.preserve,
      eraseToUnlabelled: this.eraseUnlabelled,
    };
    return this.snapshot;
  }

  /** Called after any change of `state`. */
  subscribe(listener: () => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** The one way commands reach the editor, whether from a key, the desktop menu or a button. */
  execute(command: MaskCommand): void {
    switch (command.kind) {
      case 'label':
        return this.setLabel(command.label);
      case 'tool':
        return this.setTool(command.tool);
      case 'brush':
        return this.stepBrush(command.direction);
      case 'brush-size':
        return this.setBrushRadius(command.radius);
      case 'undo':
        return void this.undo();
      case 'redo':
        return void this.redo();
      case 'complete':
        return this.complete();
      case 'cancel':
        return this.cancel();
      case 'accept-prediction':
        return void this.acceptPrediction();
      case 'fill-holes':
        return void this.fillHoles();
      case 'preserve-labels':
        return this.setPreserveLabels(command.on ?? !this.preserve);
      case 'erase-to-unlabelled':
        return this.setEraseToUnlabelled(command.on ?? !this.eraseUnlabelled);
    }
  }

  setTool(name: ToolName): void {
    if (name === this.toolName) return;
    this.apply(this.activeTool.cancel());
    this.toolName = name;
    this.changed();
  }

  setLabel(label: number): void {
    if (label === IGNORE_LABEL || (Number.isInteger(label) && label >= 0 && label < this.classCount)) this.activeLabel = label;
    this.changed();
  }

  setBrushRadius(radius: number): void {
    this.radius = Math.min(MAX_BRUSH_RADIUS, Math.max(MIN_BRUSH_RADIUS, radius));
    this.changed();
  }

  setPreserveLabels(on: boolean): void {
    this.preserve = on;
    this.changed();
  }

  setEraseToUnlabelled(on: boolean): void {
    this.eraseUnlabelled = on;
    this.changed();
  }

  /** `[` and `]`: about 20 % per press, at least one pixel, so both small and huge brushes adjust quickly. */
  stepBrush(direction: 1 | -1): void {
    const step = Math.max(1, Math.round(this.brushRadius * 0.2));
    this.setBrushRadius(this.brushRadius + direction * step);
  }

  pointerDown(point: Point): void {
    if (this.region) return; // one region edit at a time; Escape or undo cancels it
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
    this.cancelRegion();
    this.apply(this.activeTool.cancel());
  }

  /**
   * Ends whatever is in progress so nothing is lost before a save, an image switch or closing: a
   * stroke is committed as it stands, an unfinished polygon is dropped.
   */
  settle(): void {
    this.cancelRegion();
    const tool = this.activeTool;
    if (!tool.busy) return;
    if (tool instanceof BrushTool) this.complete();
    else this.cancel();
  }

  undo(): boolean {
    if (this.cancelRegion()) return true;
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

  /** Fills the background holes enclosed by the active class as one undoable step; false when there were none. */
  fillHoles(): boolean {
    this.settle();
    const edit = new Edit(this.map, 'Fill holes');
    const dirty = fillHoles(edit, this.label);
    const committed = edit.finish();
    this.apply({ dirty, committed });
    return committed !== null;
  }

  private context(): ToolContext {
    return {
      map: this.map,
      label: this.label,
      eraseLabel: this.eraseUnlabelled ? IGNORE_LABEL : 0,
      preserveLabels: this.preserve,
      brushRadius: this.brushRadius,
      closeDistance: this.closeDistance,
      prediction: this.prediction,
      offloadRegions: this.regionRunner !== null,
    };
  }

  private apply(effect: ToolEffect): void {
    if (effect.region) this.startRegion(effect.region);
    if (effect.committed) this.history.push(effect.committed);
    const dirty = effect.committed?.bounds ?? effect.dirty;
    if (dirty) this.emit({ dirty, tiles: effect.committed ? effect.committed.tiles.map((tile) => tile.index) : [] });
    this.changed();
  }

  private restored(restored: Restored | null): boolean {
    if (!restored) return false;
    this.emit({ dirty: restored.bounds, tiles: restored.tiles });
    this.changed();
    return true;
  }

  /**
   * Hands a fill to the region runner: its tiles are shown as they come, and the finished step is
   * committed like any other (one history, undo as the patch). Busy until it ends.
   */
  private startRegion(request: RegionRequest): void {
    const runner = this.regionRunner!;
    const run = { controller: new AbortController(), replaced: new Map<number, Uint8Array | null>() };
    this.region = run;
    const show = (updates: TileUpdate[]) => {
      if (this.region !== run) return;
      let dirty: Rect | null = null;
      for (const { index, data } of updates) {
        if (!run.replaced.has(index)) run.replaced.set(index, this.map.tileData(index));
        // The runner's arrays are handed over (transferred from the worker): kept, not copied.
        this.map.adoptTileData(index, data);
        dirty = unionRect(dirty, this.map.tileBounds(index));
      }
      if (dirty) this.emit({ dirty, tiles: [], redrawn: updates.map((update) => update.index) });
    };
    const settled = (patch: Patch | null) => {
      if (this.region !== run) return;
      this.region = null;
      if (!patch) {
        this.putBack(run.replaced);
        return this.changed();
      }
      // The shown tiles are the result already (a runner shows every tile after its last write):
      // comparing them with the patch would cost a frame on a big fill. Only tiles touched but left
      // unchanged go back to their own arrays, and any tile never shown is set.
      const final = new Set(patch.tiles.map((tile) => tile.index));
      let dirty: Rect | null = null;
      const redrawn: number[] = [];
      for (const [index, data] of run.replaced) {
        if (final.has(index)) continue;
        this.map.setTileData(index, data);
        dirty = unionRect(dirty, this.map.tileBounds(index));
        redrawn.push(index);
      }
      for (const tile of patch.tiles) {
        if (run.replaced.has(tile.index)) continue;
        this.map.setTileData(tile.index, tile.after);
        dirty = unionRect(dirty, this.map.tileBounds(tile.index));
        redrawn.push(tile.index);
      }
      this.history.push(patch);
      this.emit({ dirty: dirty ?? { ...patch.bounds, width: 0, height: 0 }, tiles: [...final], redrawn });
      this.changed();
    };
    runner.run(this.map, request, show, run.controller.signal).then(
      (outcome) => settled(outcome.ok ? outcome.patch : null),
      // The runner reports its own failures; here the map only goes back to how it was.
      () => settled(null),
    );
  }

  /** Abandons the region edit under way, if any, putting back the tiles it showed. */
  private cancelRegion(): boolean {
    const run = this.region;
    if (!run) return false;
    run.controller.abort();
    this.region = null;
    this.putBack(run.replaced);
    this.changed();
    return true;
  }

  private putBack(replaced: Map<number, Uint8Array | null>): void {
    let dirty: Rect | null = null;
    for (const [index, data] of replaced) {
      this.map.setTileData(index, data);
      dirty = unionRect(dirty, this.map.tileBounds(index));
    }
    if (dirty) this.emit({ dirty, tiles: [] });
  }

  /** Tells subscribers when what `state` shows has changed (a pointer move mid-stroke changes nothing there). */
  private changed(): void {
    const before = this.snapshot;
    this.snapshot = null;
    if (before && sameState(before, this.state)) {
      this.snapshot = before;
      return;
    }
    for (const listener of this.stateListeners) listener();
  }

  private emit(change: MaskChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

function sameState(a: MaskEditorState, b: MaskEditorState): boolean {
  return (
    a.tool === b.tool && a.label === b.label && a.brushRadius === b.brushRadius && a.canUndo === b.canUndo && a.canRedo === b.canRedo && a.busy === b.busy &&
    a.preserveLabels === b.preserveLabels && a.eraseToUnlabelled === b.eraseToUnlabelled
  );
}
