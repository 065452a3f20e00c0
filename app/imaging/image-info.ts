/** What probing an image tells us without decoding its pixels. */
export interface ImageInfo {
  /** sharp's format name: 'png', 'jpeg', 'tiff', 'gif' or 'webp'. */
  format: string;
  width: number;
  height: number;
  /** Channels as decoded: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  bitDepth: 8 | 16;
  /** Pages of a multi-page TIFF or frames of an animated GIF/WebP; 1 otherwise. */
  pages: number;
}
