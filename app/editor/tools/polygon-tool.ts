import { Edit } from '../edit.js';
import { copyLabels } from '../raster.js';
import type { Point } from '../rect.js';
import { NO_EFFECT, type Tool, type ToolContext, type ToolEffect, preserveGuard, regionEffect } from './tool.js';

/** Dragging farther than this (image pixels) makes a press a lasso instead of a polygon vertex. */
const LASSO_MIN_TRAVEL = 3;

type PolygonState =
  | { kind: 'idle' }
  /** Pointer held: dragging draws a lasso; releasing without travel leaves a first vertex. */
  | { kind: 'pressed'; points: Point[]; travel: number; lasso: boolean }
  /** Click-to-add polygon in progress. */
  | { kind: 'placing'; points: Point[] };

/**
 * Polygon and lasso in one tool: drag to draw a free-hand outline that fills on release, or click
 * vertices and close by clicking the first one, double-clicking or pressing Enter. The `accept`
 * variant copies the prediction inside the outline instead of painting one class.
 */
export class PolygonTool implements Tool {
  private state: PolygonState = { kind: 'idle' };

  constructor(readonly name: 'polygon' | 'accept') {}

  get busy(): boolean {
    return this.state.kind !== 'idle';
  }

  get outline(): readonly Point[] {
    return this.state.kind === 'idle' ? [] : this.state.points;
  }

  down(point: Point, context: ToolContext): ToolEffect {
    if (this.state.kind === 'placing') {
      const first = this.state.points[0]!;
      if (this.state.points.length >= 3 && Math.hypot(point.x - first.x, point.y - first.y) <= context.closeDistance) {
        return this.complete(context);
      }
      this.state.points.push(point);
      return NO_EFFECT;
    }
    this.state = { kind: 'pressed', points: [point], travel: 0, lasso: false };
    return NO_EFFECT;
  }

  move(point: Point): ToolEffect {
    if (this.state.kind !== 'pressed') return NO_EFFECT;
    const last = this.state.points[this.state.points.length - 1]!;
    const step = Math.hypot(point.x - last.x, point.y - last.y);
    this.state.travel += step;
    if (this.state.travel >= LASSO_MIN_TRAVEL) this.state.lasso = true;
    if (this.state.lasso && step >= 1) this.state.points.push(point);
    return NO_EFFECT;
  }

  up(point: Point, context: ToolContext): ToolEffect {
    if (this.state.kind !== 'pressed') return NO_EFFECT;
    if (this.state.lasso) {
      this.move(point);
      return this.complete(context);
    }
    this.state = { kind: 'placing', points: this.state.points };
    return NO_EFFECT;
  }

  complete(context: ToolContext): ToolEffect {
    if (this.state.kind === 'idle') return NO_EFFECT;
    const points = this.state.points;
    this.state = { kind: 'idle' };
    if (points.length < 3) return NO_EFFECT;
    if (this.name === 'accept') {
      if (!context.prediction) return NO_EFFECT;
      const edit = new Edit(context.map, 'Accept prediction in region');
      const dirty = copyLabels(edit, context.prediction, points);
      return { dirty, committed: edit.finish() };
    }
    return regionEffect({ label: 'Polygon fill', operation: { kind: 'polygon', points, value: context.label }, guard: preserveGuard(context) }, context);
  }

  cancel(): ToolEffect {
    this.state = { kind: 'idle' };
    return NO_EFFECT;
  }
}
