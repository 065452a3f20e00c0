import type { Patch } from '../../../../app/editor/edit.js';
import type { MapSnapshot, TileUpdate } from '../../../../app/editor/region-runner.js';
import type { RegionRequest } from '../../../../app/editor/tiled-fill.js';

/** What the page asks of the edit worker: run a region edit on a snapshot of the mask, or stop one. */
export type EditWorkerRequest = { kind: 'run'; id: number; snapshot: MapSnapshot; request: RegionRequest } | { kind: 'cancel'; id: number };

/** What the edit worker answers: tiles as they are computed, then the undo step or a problem. */
export type EditWorkerReply =
  | { kind: 'tiles'; id: number; tiles: TileUpdate[]; pixels: number }
  | { kind: 'done'; id: number; patch: Patch | null }
  | { kind: 'failed'; id: number; error: string };
