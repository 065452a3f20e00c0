import { Edit } from '../edit.js';
import { paintGuard } from '../paint-guard.js';
import { floodFill } from '../raster.js';
import type { Point } from '../rect.js';
import { NO_EFFECT, type Tool, type ToolContext, type ToolEffect } from './tool.js';

/** Flood fill: a click replaces the connected region of equal labels with the active class. */
export class FillTool implements Tool {
  readonly name = 'fill';
  readonly busy = false;
  readonly outline: readonly Point[] = [];

  down(point: Point, context: ToolContext): ToolEffect {
    const edit = new Edit(context.map, 'Fill', context.preserveLabels ? paintGuard('paint', context.label) : null);
    const dirty = floodFill(edit, Math.floor(point.x), Math.floor(point.y), context.label);
    return { dirty, committed: edit.finish() };
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
