import type { Patch } from '../edit.js';
import type { Point, Rect } from '../rect.js';
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
}

/** The outcome of one input event: what to redraw now, and a finished undoable step if any. */
export interface ToolEffect {
  dirty: Rect | null;
  committed: Patch | null;
}

export const NO_EFFECT: ToolEffect = { dirty: null, committed: null };

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
