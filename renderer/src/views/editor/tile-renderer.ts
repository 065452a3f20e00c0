import { IGNORE_LABEL } from '../../../../app/contract/schemas.js';
import type { Rect } from '../../../../app/editor/rect.js';
import { intersectRect } from '../../../../app/editor/rect.js';
import type { TiledLabelMap } from '../../../../app/editor/tiled-label-map.js';

type TileCanvas = HTMLCanvasElement | OffscreenCanvas;

/** Ignore (255) is drawn hatched, in diagonal stripes this many image pixels apart, so it never reads as a class. */
const HATCH_PERIOD = 6;

/**
 * Keeps one small canvas per non-empty tile of a label map, coloured through a lookup table. An
 * edit recolours only its dirty rectangle (putImageData on that part of the touched tiles), and a
 * frame draws only the tiles in view, so painting costs the same on 1,000² and 8,192² masks.
 */
export class TileRenderer {
  private readonly canvases = new Map<number, TileCanvas>();

  constructor(
    private map: TiledLabelMap,
    private colours: Uint32Array,
    /** Outline mode (predictions, or the mask on O): edge pixels at full colour, the inside faint. */
    private outlined = false,
  ) {
    this.refresh({ x: 0, y: 0, width: map.width, height: map.height });
  }

  setMap(map: TiledLabelMap): void {
    this.map = map;
    for (const canvas of this.canvases.values()) clear(canvas);
    this.refresh({ x: 0, y: 0, width: map.width, height: map.height });
  }

  get outline(): boolean {
    return this.outlined;
  }

  setOutline(outline: boolean): void {
    if (outline === this.outlined) return;
    this.outlined = outline;
    this.refresh({ x: 0, y: 0, width: this.map.width, height: this.map.height });
  }

  setColours(colours: Uint32Array): void {
    this.colours = colours;
    this.refresh({ x: 0, y: 0, width: this.map.width, height: this.map.height });
  }

  /** Recolours the part of every tile that `rect` covers. */
  refresh(rect: Rect): void {
    for (const index of this.map.tilesInRect(rect)) {
      const labels = this.map.tileData(index);
      let canvas = this.canvases.get(index);
      if (!labels) {
        if (canvas) clear(canvas);
        continue;
      }
      const bounds = this.map.tileBounds(index);
      const part = intersectRect(rect, bounds)!;
      if (!canvas) {
        canvas = createTileCanvas(this.map.tileSize);
        this.canvases.set(index, canvas);
      }
      this.paint(canvas, labels, bounds, part);
    }
  }

  /** Draws the tiles overlapping `view` (image coordinates) at their image positions. */
  draw(context: CanvasRenderingContext2D, view: Rect): void {
    for (const index of this.map.tilesInRect(view)) {
      const canvas = this.canvases.get(index);
      if (!canvas || !this.map.tileData(index)) continue;
      const bounds = this.map.tileBounds(index);
      context.drawImage(canvas, 0, 0, bounds.width, bounds.height, bounds.x, bounds.y, bounds.width, bounds.height);
    }
  }

  dispose(): void {
    this.canvases.clear();
  }

  private paint(canvas: TileCanvas, labels: Uint8Array, bounds: Rect, part: Rect): void {
    const size = this.map.tileSize;
    const context = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
    const image = context.createImageData(part.width, part.height);
    const pixels = new Uint32Array(image.data.buffer);
    const table = this.colours;
    const offsetX = part.x - bounds.x;
    const offsetY = part.y - bounds.y;
    for (let row = 0; row < part.height; row++) {
      const source = (offsetY + row) * size + offsetX;
      const target = row * part.width;
      const y = offsetY + row;
      for (let column = 0; column < part.width; column++) {
        const x = offsetX + column;
        const label = labels[source + column]!;
        if (label === 0) continue;
        if (label === IGNORE_LABEL) {
          if ((bounds.x + x + bounds.y + y) % HATCH_PERIOD < HATCH_PERIOD / 2) pixels[target + column] = table[label]!;
          continue;
        }
        if (!this.outlined) {
          pixels[target + column] = table[label]!;
          continue;
        }
        const edge =
          (x > 0 && labels[source + column - 1] !== label) ||
          (x < bounds.width - 1 && labels[source + column + 1] !== label) ||
          (y > 0 && labels[source + column - size] !== label) ||
          (y < bounds.height - 1 && labels[source + column + size] !== label);
        const colour = table[label]!;
        pixels[target + column] = edge ? colour : ((colour & 0x00ffffff) | (0x40 << 24)) >>> 0;
      }
    }
    context.putImageData(image, offsetX, offsetY);
  }
}

function createTileCanvas(size: number): TileCanvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(size, size);
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  return canvas;
}

function clear(canvas: TileCanvas): void {
  (canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D).clearRect(0, 0, canvas.width, canvas.height);
}
