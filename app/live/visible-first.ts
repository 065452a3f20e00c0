import type { ImageRegion } from '../contract/live.js';

/** A view showing at least this share of the image is predicted with the rest, in one pass. */
const WHOLE_IMAGE_SHARE = 0.6;

/**
 * The parts of an image to predict, in order: the part in the editor's view (clipped to the image),
 * then the bands around it (above, below, left, right) that make up the rest; the whole image alone
 * when there is no view or it shows most of the image.
 */
export function predictionRegions(width: number, height: number, view: ImageRegion | null): ImageRegion[] {
  const whole = { x: 0, y: 0, width, height };
  if (!view) return [whole];
  const x = Math.min(view.x, width);
  const y = Math.min(view.y, height);
  const right = Math.min(view.x + view.width, width);
  const bottom = Math.min(view.y + view.height, height);
  if (right <= x || bottom <= y || (right - x) * (bottom - y) >= WHOLE_IMAGE_SHARE * width * height) return [whole];
  const bands = [
    { x: 0, y: 0, width, height: y },
    { x: 0, y: bottom, width, height: height - bottom },
    { x: 0, y, width: x, height: bottom - y },
    { x: right, y, width: width - right, height: bottom - y },
  ];
  return [{ x, y, width: right - x, height: bottom - y }, ...bands.filter((band) => band.width > 0 && band.height > 0)];
}
