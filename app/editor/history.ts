import type { Patch } from './edit.js';
import type { Rect } from './rect.js';
import type { TiledLabelMap } from './tiled-label-map.js';

/** At least 100 steps are promised; the byte budget keeps huge fills from piling up memory. */
export const DEFAULT_HISTORY_STEPS = 200;
export const DEFAULT_HISTORY_BYTES = 512 * 1024 * 1024;

/** What an undo or redo changed, so the view redraws and the autosaver saves exactly those tiles. */
export interface Restored {
  label: string;
  tiles: number[];
  bounds: Rect;
}

/** Undo and redo as tile patches: each entry holds the touched tiles before and after one step. */
export class EditHistory {
  private readonly done: Patch[] = [];
  private readonly undone: Patch[] = [];
  private bytes = 0;

  constructor(
    readonly maxSteps = DEFAULT_HISTORY_STEPS,
    readonly maxBytes = DEFAULT_HISTORY_BYTES,
  ) {}

  push(patch: Patch): void {
    this.done.push(patch);
    this.bytes += patchBytes(patch);
    for (const dropped of this.undone.splice(0)) this.bytes -= patchBytes(dropped);
    // Keep at least one step even when it alone is over the byte budget.
    while (this.done.length > this.maxSteps || (this.bytes > this.maxBytes && this.done.length > 1)) {
      this.bytes -= patchBytes(this.done.shift()!);
    }
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  get undoSteps(): number {
    return this.done.length;
  }

  get redoSteps(): number {
    return this.undone.length;
  }

  /** Bytes held by all entries (tile copies), for the memory budget and tests. */
  get byteSize(): number {
    return this.bytes;
  }

  undo(map: TiledLabelMap): Restored | null {
    const patch = this.done.pop();
    if (!patch) return null;
    this.undone.push(patch);
    for (const tile of patch.tiles) map.setTileData(tile.index, tile.before);
    return restored(patch);
  }

  redo(map: TiledLabelMap): Restored | null {
    const patch = this.undone.pop();
    if (!patch) return null;
    this.done.push(patch);
    for (const tile of patch.tiles) map.setTileData(tile.index, tile.after);
    return restored(patch);
  }

  clear(): void {
    this.done.length = 0;
    this.undone.length = 0;
    this.bytes = 0;
  }
}

export function patchBytes(patch: Patch): number {
  let bytes = 0;
  for (const tile of patch.tiles) bytes += (tile.before?.byteLength ?? 0) + (tile.after?.byteLength ?? 0);
  return bytes;
}

function restored(patch: Patch): Restored {
  return { label: patch.label, tiles: patch.tiles.map((tile) => tile.index), bounds: patch.bounds };
}
