import type { ContractClient } from '../../../../app/contract/client.js';
import type { DisplayRegion } from '../../../../app/contract/studio.js';
import type { Rect } from '../../../../app/editor/rect.js';
import { base64ToBlob } from '../../lib/bytes.js';
import type { WorkProgress } from './work-progress.svelte.js';

/** What the editor draws: a decoded image, or (big images) a canvas that fills in as tiles arrive. */
export type StudioPicture = ImageBitmap | HTMLCanvasElement;

/** The downscaled level shown first: a 2048² JPEG decodes in well under a second. */
export const PREVIEW_SIDE = 2048;
/** Full-resolution tiles: small answers, drawn as each arrives. */
export const TILE_SIDE = 1024;
/** Tiles asked for at once: the host decodes and encodes them while the page draws. */
const CONCURRENT_TILES = 2;
/** Sent by a progressive picture when more of it has arrived (a `PictureUpdate`: the stage redraws, the display controls recompute that part). */
export const PICTURE_UPDATED = 'picture-updated';

/** The event a progressive picture sends when a tile has arrived; `detail` is the tile's place in the image. */
export type PictureUpdate = CustomEvent<Rect>;

interface Loading {
  controller: AbortController;
}

/** Each progressive picture's downscaled level, kept for drawing while zoomed out. */
const levels = new WeakMap<HTMLCanvasElement, ImageBitmap>();

/**
 * The picture's downscaled level when the view shows no more pixels than it has (`shownWidth`:
 * the picture's width on screen): the same view from a fraction of the pixels. Null otherwise.
 */
export function levelFor(picture: StudioPicture, shownWidth: number): ImageBitmap | null {
  if (picture instanceof ImageBitmap) return null;
  const level = levels.get(picture);
  return level && shownWidth <= level.width ? level : null;
}

/**
 * Opens images progressively: a downscaled level first (the view is ready as soon as it is in),
 * then full-resolution tiles, centre first, drawn into a full-size canvas as each arrives, with
 * their count in the editor's progress bar. Small images arrive whole in the first answer.
 */
export class ProgressivePictures {
  private readonly loading = new Map<StudioPicture, Loading>();

  constructor(
    private readonly client: ContractClient,
    private readonly work: WorkProgress,
  ) {}

  async load(project: string, id: string, name: string, signal: AbortSignal): Promise<StudioPicture> {
    const handle = this.work.start(`Loading ${name}`, '');
    try {
      const preview = await this.region(project, id, { maxSide: PREVIEW_SIDE }, signal);
      const bitmap = await decode(preview, name);
      if (preview.width === preview.imageWidth && preview.height === preview.imageHeight) return bitmap;
      const canvas = document.createElement('canvas');
      canvas.width = preview.imageWidth;
      canvas.height = preview.imageHeight;
      const context = canvas.getContext('2d');
      if (!context) throw new Error(`${name} is too big for this browser to show (${preview.imageWidth}x${preview.imageHeight}).`);
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      levels.set(canvas, bitmap);
      const loading = { controller: new AbortController() };
      this.loading.set(canvas, loading);
      void this.fillIn(canvas, context, project, id, name, loading.controller.signal);
      return canvas;
    } finally {
      handle.end();
    }
  }

  /** Stops a picture's tiles and frees it (it is no longer shown). */
  release(picture: StudioPicture): void {
    if (picture instanceof ImageBitmap) return picture.close();
    this.loading.get(picture)?.controller.abort();
    this.loading.delete(picture);
    levels.get(picture)?.close();
    levels.delete(picture);
    picture.width = 0; // frees the canvas memory now rather than at collection
  }

  private async fillIn(canvas: HTMLCanvasElement, context: CanvasRenderingContext2D, project: string, id: string, name: string, signal: AbortSignal): Promise<void> {
    const tiles = tileGrid(canvas.width, canvas.height);
    const handle = this.work.start(`Loading ${name} at full resolution`, 'tiles', tiles.length);
    let done = 0;
    const next = async (): Promise<void> => {
      for (let tile = tiles.shift(); tile && !signal.aborted; tile = tiles.shift()) {
        const answer = await this.region(project, id, { region: tile }, signal);
        const bitmap = await decode(answer, name);
        if (signal.aborted) return bitmap.close();
        context.drawImage(bitmap, tile.x, tile.y);
        bitmap.close();
        handle.update(++done);
        canvas.dispatchEvent(new CustomEvent(PICTURE_UPDATED, { detail: tile }) satisfies PictureUpdate);
      }
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENT_TILES }, next));
    } catch (err) {
      if (!signal.aborted) this.work.fail(err instanceof Error ? err.message : String(err));
    } finally {
      handle.end();
      this.loading.delete(canvas);
    }
  }

  private async region(project: string, id: string, part: { maxSide?: number; region?: Rect }, signal: AbortSignal): Promise<DisplayRegion> {
    const answer = await this.client.invoke('images.displayRegion', { project, id, ...part }, { signal });
    if (!answer.ok) throw new Error(answer.error.message);
    return answer.value;
  }
}

/** The image's tiles, nearest the centre first (what a fitted or centred view shows best). */
function tileGrid(width: number, height: number): Rect[] {
  const tiles: Rect[] = [];
  for (let y = 0; y < height; y += TILE_SIDE) {
    for (let x = 0; x < width; x += TILE_SIDE) tiles.push({ x, y, width: Math.min(TILE_SIDE, width - x), height: Math.min(TILE_SIDE, height - y) });
  }
  const distance = (tile: Rect) => Math.hypot(tile.x + tile.width / 2 - width / 2, tile.y + tile.height / 2 - height / 2);
  return tiles.sort((a, b) => distance(a) - distance(b));
}

function decode(answer: DisplayRegion, name: string): Promise<ImageBitmap> {
  return createImageBitmap(base64ToBlob(answer.base64, answer.mime)).catch((err: unknown) => {
    throw new Error(`${name} could not be shown: the browser cannot decode its display image (${err instanceof Error ? err.message : String(err)}).`);
  });
}
