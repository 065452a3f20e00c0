import { Edit } from '../edit.js';
import { paintCapsule } from '../raster.js';
import type { Point } from '../rect.js';
import { NO_EFFECT, type Tool, type ToolContext, type ToolEffect, preserveGuard } from './tool.js';

type BrushState = { kind: 'idle' } | { kind: 'painting'; edit: Edit; last: Point; value: number };

/** Brush and eraser: a stroke from pointer down to up is one undo step; segments join as round-capped lines. */
export class BrushTool implements Tool {
  private state: BrushState = { kind: 'idle' };
  readonly outline: readonly Point[] = [];

  constructor(readonly name: 'brush' | 'eraser') {}

  get busy(): boolean {
    return this.state.kind === 'painting';
  }

  down(point: Point, context: ToolContext): ToolEffect {
    if (this.state.kind === 'painting') return this.move(point, context);
    const value = this.name === 'eraser' ? context.eraseLabel : context.label;
    const mode = this.name === 'eraser' ? 'erase' : 'paint';
    const edit = new Edit(context.map, mode === 'erase' ? 'Erase' : 'Brush stroke', preserveGuard(context, mode));
    this.state = { kind: 'painting', edit, last: point, value };
    return { dirty: paintCapsule(edit, point, point, context.brushRadius, value), committed: null };
  }

  move(point: Point, context: ToolContext): ToolEffect {
    if (this.state.kind !== 'painting') return NO_EFFECT;
    const { edit, last, value } = this.state;
    if (point.x === last.x && point.y === last.y) return NO_EFFECT;
    this.state.last = point;
    return { dirty: paintCapsule(edit, last, point, context.brushRadius, value), committed: null };
  }

  up(point: Point, context: ToolContext): ToolEffect {
    if (this.state.kind !== 'painting') return NO_EFFECT;
    const { dirty } = this.move(point, context);
    return { dirty, committed: this.complete().committed };
  }

  /** Commits the stroke as it stands (the pointer left the window, the image is being switched). */
  complete(): ToolEffect {
    if (this.state.kind !== 'painting') return NO_EFFECT;
    const committed = this.state.edit.finish();
    this.state = { kind: 'idle' };
    return { dirty: committed?.bounds ?? null, committed };
  }

  cancel(): ToolEffect {
    if (this.state.kind !== 'painting') return NO_EFFECT;
    const dirty = this.state.edit.revert();
    this.state = { kind: 'idle' };
    return { dirty, committed: null };
  }
}
