/** Where tiles start along one axis and how large they are (the model input extent). */
export interface AxisPlan {
  starts: number[];
  /** Tile extent fed to the model (a multiple of the model's size multiple, or its fixed size). */
  extent: number;
  /** Overlap each tile blends over with its neighbours. */
  overlap: number;
}

/**
 * Tiles of `tile` pixels (rounded down to the model's `multiple`) overlapping by at least `overlap`, the
 * last one flush with the far edge. An axis shorter than one tile gets a single tile padded (with
 * zeros, as in training) up to the next multiple, so a model that takes any size sees the image as it is.
 */
export function planAxis(length: number, tile: number, overlap: number, fixedExtent: number | null, multiple: number): AxisPlan {
  const roundUp = Math.ceil(length / multiple) * multiple;
  const extent = fixedExtent ?? Math.min(Math.max(multiple, Math.floor(tile / multiple) * multiple), roundUp);
  if (length <= extent) return { starts: [0], extent, overlap: 0 };
  const blend = Math.min(overlap, Math.floor(extent / 2));
  const stride = extent - blend;
  const starts: number[] = [];
  for (let start = 0; start + extent < length; start += stride) starts.push(start);
  starts.push(length - extent);
  return { starts, extent, overlap: blend };
}

/**
 * Blending weights along one tile: a raised-cosine ramp over the overlap on each side that has a
 * neighbour, 1 elsewhere. Summed over neighbouring tiles the weights vary smoothly, so no seam shows;
 * they never reach 0, so every pixel keeps some weight.
 */
export function blendRamp(extent: number, overlap: number, rampBefore: boolean, rampAfter: boolean): Float32Array {
  const weights = new Float32Array(extent).fill(1);
  for (let i = 0; i < overlap; i++) {
    const w = 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / overlap);
    if (rampBefore) weights[i] = Math.min(weights[i]!, w);
    if (rampAfter) weights[extent - 1 - i] = Math.min(weights[extent - 1 - i]!, w);
  }
  return weights;
}
