import type { Rect } from './rect.js';
import type { TiledLabelMap } from './tiled-label-map.js';

export interface LabelPatch extends Rect {
  labels: Uint8Array;
}

/** The labels of the given tiles, each clipped to the image: what the host writes into the stored mask. */
export function tilePatches(map: TiledLabelMap, tiles: Iterable<number>): LabelPatch[] {
  return [...new Set(tiles)].sort((a, b) => a - b).map((index) => {
    const bounds = map.tileBounds(index);
    return { ...bounds, labels: map.readRect(bounds) };
  });
}
