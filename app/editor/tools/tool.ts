import { Edit, type Patch } from '../edit.js';
import { paintGuard } from '../paint-guard.js';
import type { Point, Rect } from '../rect.js';
import { type RegionRequest, runRegion } from '../tiled-fill.js';
import type { TiledLabelMap } from '../tiled-label-map.js';

export type ToolName = 'brush' | 'eraser' | 'polygon' | 'fill' | 'accept';

/** What a tool needs from the editor at the moment of an input event. */
export interface ToolContext {
  map: TiledLabelMap;
  /** The class painted by brush, polygon and fill. */
  label: number;
  /** What the eraser paints: background (0), or unlabelled (255) when the user chose so. */
  eraseLabel: number;
  /** Preserve labels: paint only pixels without a class, erase only the selected class (see paintGuard). */
  preserveLabels: boolean;
  /** Brush radius in image pixels. */
  brushRadius: number;
  /** How close (image pixels) a click must be to the first vertex to close a polygon. */
  closeDistance: number;
  /** The model's prediction, for the accept tool; null when there is none. */
  prediction: TiledLabelMap | null;
  /** Region edits (fills) go to the editor's region runner instead of running here. */
  offloadRegions: boolean;
}

/** The outcome of one input event: what to redraw now, and a finished undoable step if any. */
export interface ToolEffect {
  dirty: Rect | null;
  committed: Patch | null;
  /** A region edit for the editor's runner (when the context offloads them). */
  region?: RegionRequest;
}

export const NO_EFFECT: ToolEffect = { dirty: null, committed: null };

/** The guard a paint or erase gets under preserve labels (null: every pixel may change). */
export function preserveGuard(context: ToolContext, mode: 'paint' | 'erase' = 'paint'): Uint8Array | null {
  return context.preserveLabels ? paintGuard(mode, context.label) : null;
}

/** A fill as the tool's effect: handed to the region runner when there is one, else run here at once. */
export function regionEffect(request: RegionRequest, context: ToolContext): ToolEffect {
  if (context.offloadRegions) return { dirty: null, committed: null, region: request };
  const edit = new Edit(context.map, request.label, request.guard ?? null);
  const dirty = runRegion(edit, request.operation);
  return { dirty, committed: edit.finish() };
}

/**
 * A tool is a small state machine driven by pointer events in image coordinates. While `busy`
 * (mid-stroke, or a polygon being drawn) the editor does not autosave or switch images without
 * first finishing or cancelling it.
 */
export interface Tool {
  readonly name: ToolName;
  readonly busy: boolean;
  /** Vertices of a polygon being drawn, for the view's outline; empty otherwise. */
  readonly outline: readonly Point[];
  down(point: Point, context: ToolContext): ToolEffect;
  move(point: Point, context: ToolContext): ToolEffect;
  up(point: Point, context: ToolContext): ToolEffect;
  /** Enter: complete what is in progress (a polygon closes). */
  complete(context: ToolContext): ToolEffect;
  /** Escape, tool switch: abandon what is in progress, leaving the map as it was. */
  cancel(): ToolEffect;
}
