import { Edit, type Patch } from './edit.js';
import { TiledLabelMap } from './tiled-label-map.js';
import { type RegionRequest, regionSteps } from './tiled-fill.js';

/** A tile's new contents while a region edit runs (null: only the fill value). */
export interface TileUpdate {
  index: number;
  data: Uint8Array | null;
}

/** How a region edit ended: its undo step (null when nothing changed), or a problem in plain words. */
export type RegionOutcome = { ok: true; patch: Patch | null } | { ok: false; error: string };

/**
 * Runs region edits (flood fill, polygon fill) away from the editor's own map, e.g. in a worker,
 * so big ones never block the view. `tiles` receives tiles as they are computed, every tile the
 * edit writes after its last write (so once the run ends, the tiles received are its result); the
 * outcome's patch is the undo step, whose `after` tiles are that result. After `signal` aborts,
 * the editor ignores the run.
 */
export interface RegionRunner {
  run(map: TiledLabelMap, request: RegionRequest, tiles: (updates: TileUpdate[]) => void, signal: AbortSignal): Promise<RegionOutcome>;
}

/** The map's stored tiles, as sent to a runner (shared arrays; the receiver copies them). */
export interface MapSnapshot {
  width: number;
  height: number;
  fill: number;
  tileSize: number;
  tiles: Array<[number, Uint8Array]>;
}

export function snapshotMap(map: TiledLabelMap): MapSnapshot {
  const tiles: Array<[number, Uint8Array]> = [];
  for (let index = 0; index < map.tileCount; index++) {
    const data = map.tileData(index);
    if (data) tiles.push([index, data]);
  }
  return { width: map.width, height: map.height, fill: map.fill, tileSize: map.tileSize, tiles };
}

export function mapFromSnapshot(snapshot: MapSnapshot): TiledLabelMap {
  const map = new TiledLabelMap(snapshot.width, snapshot.height, snapshot.fill, snapshot.tileSize);
  for (const [index, data] of snapshot.tiles) map.setTileData(index, data);
  return map;
}

export interface SteppedRun {
  /** Each step's tiles, copied (the receiver may keep or transfer them). */
  tiles(updates: TileUpdate[], pixels: number): void;
  /** Lets other work in between steps (a message, a frame). */
  pause(): Promise<void>;
  cancelled(): boolean;
}

/**
 * Runs a region edit on `map` step by step, pausing before each: the body of a worker, and of the
 * in-process runner.
 * A cancelled run puts the map back as it was and ends with a null patch.
 */
export async function runRegionInSteps(map: TiledLabelMap, request: RegionRequest, run: SteppedRun): Promise<Patch | null> {
  const edit = new Edit(map, request.label, request.guard ?? null);
  const steps = regionSteps(edit, request.operation);
  for (;;) {
    await run.pause();
    if (run.cancelled()) {
      edit.revert();
      return null;
    }
    const step = steps.next();
    if (step.done) return edit.finish();
    run.tiles(
      step.value.tiles.map((index) => ({ index, data: map.tileData(index)?.slice() ?? null })),
      step.value.pixels,
    );
  }
}

/** Runs region edits on a copy of the map in this thread, a step per macrotask (plain Node, tests). */
export class InProcessRegionRunner implements RegionRunner {
  async run(map: TiledLabelMap, request: RegionRequest, tiles: (updates: TileUpdate[]) => void, signal: AbortSignal): Promise<RegionOutcome> {
    const copy = mapFromSnapshot(snapshotMap(map));
    const patch = await runRegionInSteps(copy, request, {
      tiles: (updates) => tiles(updates),
      pause: () => new Promise((resolve) => setTimeout(resolve, 0)),
      cancelled: () => signal.aborted,
    });
    return { ok: true, patch };
  }
}
