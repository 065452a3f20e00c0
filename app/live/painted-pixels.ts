import { IGNORE_LABEL } from '../contract/schemas.js';
import type { Batch } from '../engine/data/batch.js';

/** One image at model resolution (normalised, HWC) with its painted labels. */
interface PaintedImage {
  width: number;
  height: number;
  image: Float32Array;
  labels: Uint8Array;
  /** Painted pixel indices per class present. */
  byClass: Int32Array[];
  painted: number;
}

/** Pixels painted by one stroke batch (one mask save): sampled more while they are recent. */
interface Stroke {
  imageId: string;
  pixels: Int32Array;
  at: number;
}

/** Half of the patch centres come from recent strokes (when there are any). */
const RECENT_SHARE = 0.5;
/** A stroke's weight halves every this many milliseconds. */
const RECENT_HALF_LIFE_MS = 20_000;
const STROKES_KEPT = 64;
/** A class painted very little is not weighted beyond this (a few pixels would otherwise dominate). */
const MAX_CLASS_WEIGHT = 20;

/**
 * The painted pixels of a project's images, for live training: patches are cut around painted
 * pixels (a class chosen evenly among those an image has, so a thin foreground stroke counts as much
 * as a wide background one), half of them around recent strokes, weighted by recency. Unpainted and
 * out-of-image pixels are 255, so only painted pixels reach the loss.
 */
export class PaintedPixels {
  private readonly images = new Map<string, PaintedImage>();
  private strokes: Stroke[] = [];
  /** Mask updates that changed painted pixels so far: a new value means there is something new to learn. */
  changes = 0;

  constructor(
    private readonly channels: number,
    private readonly random: () => number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get labelledPixels(): number {
    let total = 0;
    for (const image of this.images.values()) total += image.painted;
    return total;
  }

  get imageCount(): number {
    return [...this.images.values()].filter((image) => image.painted > 0).length;
  }

  /**
   * Cross-entropy weights per class (`classes` of them) that make each painted class count as much as
   * the others, whatever its share of the painted pixels (users paint a lot of background and thin
   * strokes of membranes). Classes nobody painted get weight 1; the weights average 1 over the painted pixels.
   */
  classWeights(classes: number): number[] {
    const counts = new Array<number>(classes).fill(0);
    for (const image of this.images.values()) {
      for (const list of image.byClass) {
        const label = image.labels[list[0]!]!;
        if (label < classes) counts[label]! += list.length;
      }
    }
    const total = counts.reduce((sum, count) => sum + count, 0);
    const present = counts.filter((count) => count > 0).length;
    return counts.map((count) => (count > 0 ? Math.min(MAX_CLASS_WEIGHT, total / (present * count)) : 1));
  }

  has(id: string): boolean {
    return this.images.has(id);
  }

  /**
   * Sets an image's labels (its intensities are kept from before when `image` is null); pixels whose
   * label changed to a painted one form a new recent stroke. Returns how many pixels changed.
   */
  update(id: string, width: number, height: number, image: Float32Array | null, labels: Uint8Array): number {
    const previous = this.images.get(id);
    const pixels = image ?? previous?.image;
    if (!pixels) throw new Error(`No intensities for image ${id}.`);
    const changed: number[] = [];
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== IGNORE_LABEL && labels[i] !== (previous ? previous.labels[i] : IGNORE_LABEL)) changed.push(i);
    }
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i]!;
      if (label === IGNORE_LABEL) continue;
      let list = byClass.get(label);
      if (!list) byClass.set(label, (list = []));
      list.push(i);
    }
    const lists = [...byClass.values()].map((list) => Int32Array.from(list));
    this.images.set(id, { width, height, image: pixels, labels, byClass: lists, painted: lists.reduce((sum, list) => sum + list.length, 0) });
    if (changed.length > 0 || (previous?.painted ?? 0) !== this.images.get(id)!.painted) this.changes += 1;
    if (changed.length > 0) {
      this.strokes.push({ imageId: id, pixels: Int32Array.from(changed), at: this.now() });
      if (this.strokes.length > STROKES_KEPT) this.strokes = this.strokes.slice(-STROKES_KEPT);
    }
    return changed.length;
  }

  /** `count` square patches of side `patch` around painted pixels, randomly mirrored and turned; null while nothing is painted. */
  batch(count: number, patch: number): Batch | null {
    const painted = [...this.images.entries()].filter(([, image]) => image.painted > 0);
    if (painted.length === 0) return null;
    const channels = this.channels;
    const images = new Float32Array(count * patch * patch * channels);
    const labels = new Int32Array(count * patch * patch).fill(IGNORE_LABEL);
    for (let n = 0; n < count; n++) {
      const [image, centre] = this.centre(painted);
      const jitter = () => Math.floor((this.random() - 0.5) * (patch / 2));
      const left = (centre % image.width) - patch / 2 + jitter();
      const top = Math.floor(centre / image.width) - patch / 2 + jitter();
      const mirror = this.random() < 0.5;
      const turns = Math.floor(this.random() * 4);
      for (let y = 0; y < patch; y++) {
        for (let x = 0; x < patch; x++) {
          // Where output pixel (x, y) comes from in the unturned, unmirrored patch.
          let [u, v] = [x, y];
          for (let t = 0; t < turns; t++) [u, v] = [patch - 1 - v, u];
          if (mirror) u = patch - 1 - u;
          const sx = left + u;
          const sy = top + v;
          if (sx < 0 || sy < 0 || sx >= image.width || sy >= image.height) continue;
          const source = sy * image.width + sx;
          const target = (n * patch + y) * patch + x;
          labels[target] = image.labels[source]!;
          for (let c = 0; c < channels; c++) images[target * channels + c] = image.image[source * channels + c]!;
        }
      }
    }
    return { size: count, height: patch, width: patch, channels, images, labels };
  }

  /** A painted pixel to centre a patch on: from a recent stroke (by recency) or from any image. */
  private centre(painted: Array<[string, PaintedImage]>): [PaintedImage, number] {
    const now = this.now();
    const live = this.strokes.filter((stroke) => this.images.get(stroke.imageId)?.painted);
    if (live.length > 0 && this.random() < RECENT_SHARE) {
      const weights = live.map((stroke) => 0.5 ** ((now - stroke.at) / RECENT_HALF_LIFE_MS));
      const stroke = live[pick(weights, this.random())]!;
      const image = this.images.get(stroke.imageId)!;
      const pixel = stroke.pixels[Math.floor(this.random() * stroke.pixels.length)]!;
      // A pixel painted over with "unlabelled" since is no centre; any painted pixel of the image is.
      if (image.labels[pixel] !== IGNORE_LABEL) return [image, pixel];
    }
    const [, image] = painted[pick(painted.map(([, entry]) => entry.painted), this.random())]!;
    const list = image.byClass[Math.floor(this.random() * image.byClass.length)]!;
    return [image, list[Math.floor(this.random() * list.length)]!];
  }
}

function pick(weights: readonly number[], draw: number): number {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let left = draw * total;
  for (let i = 0; i < weights.length; i++) {
    left -= weights[i]!;
    if (left < 0) return i;
  }
  return weights.length - 1;
}
