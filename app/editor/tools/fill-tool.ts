import type { Point } from '../rect.js';
import { NO_EFFECT, type Tool, type ToolContext, type ToolEffect, preserveGuard, regionEffect } from './tool.js';

/** Flood fill: a click replaces the connected region of equal labels with the active class. */
export class FillTool implements Tool {
  readonly name = 'fill';
  readonly busy = false;
  readonly outline: readonly Point[] = [];

  down(point: Point, context: ToolContext): ToolEffect {
    return regionEffect({ label: 'Fill', operation: { kind: 'fill', x: Math.floor(point.x), y: Math.floor(point.y), value: context.label }, guard: preserveGuard(context) }, context);
  }

  move(): ToolEffect {
    return NO_EFFECT;
  }

  up(): ToolEffect {
    return NO_EFFECT;
  }

  complete(): ToolEffect {
    return NO_EFFECT;
  }

  cancel(): ToolEffect {
    return NO_EFFECT;
  }
}
