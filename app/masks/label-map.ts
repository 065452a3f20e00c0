/** One class index per pixel, row-major. */
export interface LabelMap {
  width: number;
  height: number;
  labels: Uint8Array;
}
