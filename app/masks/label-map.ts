/** One class index per pixel, row-major. */
export interface LabelMap {
  width: number;
  height: number;
  labels: Uint8Array;
}

/** Pixels with this label are left out of the loss and the metrics (unknown, border or outside the region of interest). */
export const IGNORE_LABEL = 255;
