import Konva from 'konva';
import type { EditorSession, Viewport } from '../../../../app/editor/editor-session.js';
import type { MaskEditor } from '../../../../app/editor/mask-editor.js';
import { type Point, type Rect, intersectRect } from '../../../../app/editor/rect.js';
import type { RegionRunner } from '../../../../app/editor/region-runner.js';
import type { TiledLabelMap } from '../../../../app/editor/tiled-label-map.js';
import { PICTURE_UPDATED, type StudioPicture, levelFor } from './progressive-picture.js';
import { TileRefreshQueue } from './tile-refresh-queue.js';
import { TileRenderer } from './tile-renderer.js';
import type { WorkProgress } from './work-progress.svelte.js';

export interface StageOptions {
  container: HTMLDivElement;
  /** The session whose shown image this stage draws (one stage per image). */
  session: EditorSession<StudioPicture>;
  maskColours: Uint32Array;
  predictionColours: Uint32Array;
  /** Told the part of the image in view (image pixels, within the image) after each pan, zoom or resize. */
  onView?(view: Rect): void;
  /** Where fills run (the edit worker), and where long work shows its progress. */
  regionRunner?: RegionRunner;
  progress?: WorkProgress;
}

const MIN_SCALE = 0.02;
const MAX_SCALE = 32;
/** Screen pixels within which a click closes a polygon on its first vertex. */
const CLOSE_RADIUS_PX = 8;

/**
 * The editor's canvas: image, prediction and mask layers plus an overlay (brush cursor, polygon
 * outline) in one Konva stage. Pointer input goes to the MaskEditor in image coordinates; each mask
 * change recolours only its dirty rectangle and redraws the mask layer once per frame. It follows
 * the session's display settings and tool state, and is the session's viewport for zoom commands.
 */
export class MaskStage implements Viewport {
  private readonly stage: Konva.Stage;
  private readonly imageLayer: Konva.Layer;
  private readonly maskLayer: Konva.Layer;
  private readonly predictionLayer: Konva.Layer;
  private readonly overlayLayer: Konva.Layer;
  private readonly cursor: Konva.Circle;
  private readonly outline: Konva.Line;
  private readonly maskTiles: TileRenderer;
  private readonly maskRefresh: TileRefreshQueue;
  private readonly maskShape: Konva.Shape;
  private readonly resize: ResizeObserver;
  private readonly stops: Array<() => void> = [];
  private readonly image: StudioPicture;
  private readonly imageNode: Konva.Image;
  /** The computed pixels the image node shows (contrast limits, colormap, channels) instead of the picture or its downscaled level. */
  private levelled: HTMLCanvasElement | null = null;
  private readonly editor: MaskEditor;
  private predictionTiles: TileRenderer | null;
  private shownPrediction: TiledLabelMap | null;
  private readonly cleanups: Array<() => void> = [];
  private pan: { pointerId: number; from: Point; origin: Point } | null = null;
  private drawingPointer: number | null = null;
  private spaceHeld = false;
  /** While the whole image is fitted, a resized window fits it again. */
  private fitted = true;
  private cursorPoint: Point | null = null;
  private readonly viewListeners = new Set<(view: Rect) => void>();
  private readonly cursorListeners = new Set<(point: Point | null) => void>();
  /** Input-handling time since the last mask draw, reported with it as one frame. */
  private pendingWorkMs = 0;
  private drawStart = 0;

  constructor(private readonly options: StageOptions) {
    const { container, session } = options;
    const document = session.document;
    if (!document) throw new Error('MaskStage needs a session with an image shown.');
    const { editor } = document;
    const image = document.image.picture;
    this.image = image;
    this.editor = editor;
    this.stage = new Konva.Stage({ container, width: container.clientWidth || 1, height: container.clientHeight || 1 });
    this.imageLayer = new Konva.Layer({ listening: false });
    this.predictionLayer = new Konva.Layer({ listening: false, imageSmoothingEnabled: false, visible: false });
    this.maskLayer = new Konva.Layer({ listening: false, imageSmoothingEnabled: false });
    this.overlayLayer = new Konva.Layer({ listening: false });
    this.imageNode = new Konva.Image({ image, x: 0, y: 0, width: image.width, height: image.height, listening: false });
    this.imageLayer.add(this.imageNode);

    this.maskTiles = new TileRenderer(editor.map, options.maskColours);
    this.predictionTiles = editor.prediction ? new TileRenderer(editor.prediction, options.predictionColours, true) : null;
    this.shownPrediction = editor.prediction;
    this.maskShape = new Konva.Shape({
      listening: false,
      perfectDrawEnabled: false,
      opacity: 0.55,
      sceneFunc: (context) => this.maskTiles.draw(context._context, this.visibleImageRect()),
    });
    this.maskLayer.add(this.maskShape);
    this.maskRefresh = new TileRefreshQueue(editor.map, this.maskTiles, () => this.visibleImageRect(), () => this.maskLayer.batchDraw(), options.progress ?? null);
    editor.regionRunner = options.regionRunner ?? null;
    this.predictionLayer.add(
      new Konva.Shape({
        listening: false,
        perfectDrawEnabled: false,
        sceneFunc: (context) => this.predictionTiles?.draw(context._context, this.visibleImageRect()),
      }),
    );
    this.cursor = new Konva.Circle({ radius: 1, stroke: '#ffffff', strokeWidth: 1, shadowColor: '#000', shadowBlur: 2, shadowOpacity: 0.9, visible: false, listening: false });
    this.outline = new Konva.Line({ points: [], stroke: '#ffd43b', strokeWidth: 1, dash: [6, 4], listening: false, closed: false });
    this.overlayLayer.add(this.outline, this.cursor);
    this.stage.add(this.imageLayer, this.predictionLayer, this.maskLayer, this.overlayLayer);

    // Frame timing for the editor bench: input handling plus the mask layer's draw.
    this.maskLayer.on('beforeDraw', () => (this.drawStart = performance.now()));
    this.maskLayer.on('draw', () => {
      const end = performance.now();
      const duration = this.pendingWorkMs + (end - this.drawStart);
      this.pendingWorkMs = 0;
      performance.measure('editor-frame', { start: end - duration, end });
    });

    this.stops.push(
      editor.onChange((change) => {
        this.maskRefresh.refresh(change.dirty, change.redrawn);
        this.cursorMoved(); // the label under the cursor may have changed
      }),
      // Tool and brush changes resize the cursor; a cancelled polygon drops its outline.
      editor.subscribe(() => this.updateOverlay()),
      session.subscribe(() => this.showDisplay()),
      session.attachViewport(this),
    );
    this.showDisplay();
    if (image instanceof HTMLCanvasElement) {
      // A big image's full-resolution tiles arriving: show them (with display settings, EditorView recomputes them: showPicturePart).
      const updated = () => {
        if (this.imageNode.image() === image) this.imageLayer.batchDraw();
      };
      image.addEventListener(PICTURE_UPDATED, updated);
      this.cleanups.push(() => image.removeEventListener(PICTURE_UPDATED, updated));
    }
    this.resize = new ResizeObserver(() => this.fitContainer());
    this.resize.observe(container);
    this.listen(container);
    this.fit();
  }

  /** Mask opacity and prediction visibility, as the session's display settings say; a new prediction (live assist) is drawn. */
  private showDisplay(): void {
    const prediction = this.editor.prediction;
    if (prediction && prediction !== this.shownPrediction) {
      this.shownPrediction = prediction;
      if (this.predictionTiles) this.predictionTiles.setMap(prediction);
      else this.predictionTiles = new TileRenderer(prediction, this.options.predictionColours, true);
      this.predictionLayer.batchDraw();
    }
    const { maskOpacity, showMask, maskOutline, showPrediction } = this.options.session.state.display;
    if (this.maskShape.opacity() !== maskOpacity || this.maskLayer.visible() !== showMask || this.maskTiles.outline !== maskOutline) {
      this.maskShape.opacity(maskOpacity);
      this.maskLayer.visible(showMask);
      this.maskTiles.setOutline(maskOutline);
      this.maskLayer.batchDraw();
    }
    if (this.predictionLayer.visible() !== showPrediction) {
      this.predictionLayer.visible(showPrediction);
      this.predictionLayer.batchDraw();
    }
  }

  get scale(): number {
    return this.stage.scaleX();
  }

  /** Shows these RGBA pixels instead of the picture (contrast limits, colormap, channels); null shows the picture itself. */
  showPicture(pixels: Uint8ClampedArray<ArrayBuffer> | null): void {
    if (!pixels) {
      this.levelled = null;
      this.showLevel();
    } else {
      const canvas = document.createElement('canvas');
      canvas.width = this.image.width;
      canvas.height = this.image.height;
      canvas.getContext('2d')!.putImageData(new ImageData(pixels, this.image.width, this.image.height), 0, 0);
      this.levelled = canvas;
      this.imageNode.image(canvas);
    }
    this.imageLayer.batchDraw();
  }

  /** Replaces part of the computed pixels shown (a late tile of a big picture); nothing while the picture itself is shown. */
  showPicturePart(rect: Rect, pixels: Uint8ClampedArray<ArrayBuffer>): void {
    if (!this.levelled) return;
    this.levelled.getContext('2d')!.putImageData(new ImageData(pixels, rect.width, rect.height), rect.x, rect.y);
    this.imageLayer.batchDraw();
  }

  /** Calls `listener` with the part of the image in view now and whenever it changes (zoom, pan, resize). */
  onView(listener: (view: Rect) => void): () => void {
    this.viewListeners.add(listener);
    listener(this.visibleImageRect());
    return () => this.viewListeners.delete(listener);
  }

  /** Calls `listener` with the image point under the mouse (null when it leaves the canvas). */
  onCursor(listener: (point: Point | null) => void): () => void {
    this.cursorListeners.add(listener);
    return () => this.cursorListeners.delete(listener);
  }

  /** Moves the view so that this image point is in the middle (the minimap). */
  centreOn(point: Point): void {
    const scale = this.scale;
    this.fitted = false;
    this.stage.position({ x: this.stage.width() / 2 - point.x * scale, y: this.stage.height() / 2 - point.y * scale });
    this.viewChanged();
  }

  /** Whole image in view, centred. */
  fit(): void {
    const { width, height } = this.image;
    const scale = Math.min(this.stage.width() / width, this.stage.height() / height) * 0.96;
    this.fitted = true;
    this.setView(scale, { x: (this.stage.width() - width * scale) / 2, y: (this.stage.height() - height * scale) / 2 });
  }

  /** One image pixel per screen pixel, keeping the centre of the view in place. */
  actualSize(): void {
    this.zoomAt({ x: this.stage.width() / 2, y: this.stage.height() / 2 }, 1);
  }

  zoomBy(factor: number): void {
    this.zoomAt({ x: this.stage.width() / 2, y: this.stage.height() / 2 }, this.scale * factor);
  }

  destroy(): void {
    for (const stop of this.stops) stop();
    this.resize.disconnect();
    for (const cleanup of this.cleanups) cleanup();
    this.maskRefresh.dispose();
    this.maskTiles.dispose();
    this.viewListeners.clear();
    this.cursorListeners.clear();
    this.stage.destroy();
  }

  private fitContainer(): void {
    const { container } = this.options;
    const fitted = this.fitted;
    this.stage.size({ width: container.clientWidth || 1, height: container.clientHeight || 1 });
    if (fitted) this.fit();
    else this.viewChanged();
  }

  private viewChanged(): void {
    this.stage.batchDraw();
    const visible = this.visibleImageRect();
    for (const listener of this.viewListeners) listener(visible);
    const view = intersectRect(visible, { x: 0, y: 0, width: this.image.width, height: this.image.height });
    if (view) this.options.onView?.(view);
  }

  private zoomAt(screen: Point, scale: number): void {
    const clamped = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
    const old = this.scale;
    const imagePoint = { x: (screen.x - this.stage.x()) / old, y: (screen.y - this.stage.y()) / old };
    this.setView(clamped, { x: screen.x - imagePoint.x * clamped, y: screen.y - imagePoint.y * clamped });
    this.fitted = false;
  }

  private setView(scale: number, position: Point): void {
    this.stage.scale({ x: scale, y: scale });
    this.stage.position(position);
    // Up close, show the image's pixels as squares; zoomed out, keep it smooth.
    this.imageLayer.imageSmoothingEnabled(scale < 2);
    if (!this.levelled) this.showLevel();
    this.editor.closeDistance = CLOSE_RADIUS_PX / scale;
    this.updateOverlay();
    this.options.session.zoomed(scale);
    this.viewChanged();
  }

  /** Zoomed out on a big picture, its downscaled level is drawn: redraws cost what a 2048² image costs. */
  private showLevel(): void {
    this.imageNode.image(levelFor(this.image, this.image.width * this.scale) ?? this.image);
  }

  /** The part of the image in view, in image pixels (for drawing only visible tiles). */
  private visibleImageRect(): Rect {
    const scale = this.scale;
    const x = Math.floor(-this.stage.x() / scale);
    const y = Math.floor(-this.stage.y() / scale);
    return { x, y, width: Math.ceil(this.stage.width() / scale) + 2, height: Math.ceil(this.stage.height() / scale) + 2 };
  }

  private toImage(event: PointerEvent | WheelEvent): Point {
    const bounds = this.options.container.getBoundingClientRect();
    const scale = this.scale;
    return { x: (event.clientX - bounds.left - this.stage.x()) / scale, y: (event.clientY - bounds.top - this.stage.y()) / scale };
  }

  private screenPoint(event: PointerEvent | WheelEvent): Point {
    const bounds = this.options.container.getBoundingClientRect();
    return { x: event.clientX - bounds.left, y: event.clientY - bounds.top };
  }

  private listen(container: HTMLDivElement): void {
    const { editor } = this;
    const on = <K extends keyof HTMLElementEventMap>(target: HTMLElement | Window, type: K, handler: (event: HTMLElementEventMap[K]) => void, options?: AddEventListenerOptions) => {
      target.addEventListener(type, handler as EventListener, options);
      this.cleanups.push(() => target.removeEventListener(type, handler as EventListener, options));
    };
    const timed = (work: () => void) => {
      const start = performance.now();
      work();
      this.pendingWorkMs += performance.now() - start;
    };

    on(container, 'pointerdown', (event) => {
      container.focus({ preventScroll: true });
      if (event.button === 1 || (event.button === 0 && this.spaceHeld)) {
        event.preventDefault();
        this.pan = { pointerId: event.pointerId, from: this.screenPoint(event), origin: this.stage.position() };
        container.setPointerCapture(event.pointerId);
        container.dataset.panning = 'true';
        return;
      }
      if (event.button !== 0 || this.drawingPointer !== null) return;
      this.drawingPointer = event.pointerId;
      container.setPointerCapture(event.pointerId);
      timed(() => editor.pointerDown(this.toImage(event)));
      this.updateOverlay();
    });
    on(container, 'pointermove', (event) => {
      if (this.pan && event.pointerId === this.pan.pointerId) {
        const now = this.screenPoint(event);
        this.stage.position({ x: this.pan.origin.x + now.x - this.pan.from.x, y: this.pan.origin.y + now.y - this.pan.from.y });
        this.fitted = false;
        this.viewChanged();
        return;
      }
      this.cursorPoint = this.toImage(event);
      this.cursorMoved();
      if (event.pointerId === this.drawingPointer) {
        // Coalesced events keep fast strokes smooth: every sampled point joins the stroke.
        const samples = event.getCoalescedEvents?.() ?? [];
        timed(() => {
          for (const sample of samples.length > 0 ? samples : [event]) editor.pointerMove(this.toImage(sample));
        });
      } else editor.pointerMove(this.cursorPoint);
      this.updateOverlay();
    });
    const release = (event: PointerEvent) => {
      if (this.pan && event.pointerId === this.pan.pointerId) {
        this.pan = null;
        delete container.dataset.panning;
        return;
      }
      if (event.pointerId !== this.drawingPointer) return;
      this.drawingPointer = null;
      timed(() => editor.pointerUp(this.toImage(event)));
      this.updateOverlay();
    };
    on(container, 'pointerup', release);
    on(container, 'pointercancel', (event) => {
      if (event.pointerId === this.drawingPointer) {
        this.drawingPointer = null;
        editor.settle();
      }
      this.pan = null;
    });
    on(container, 'pointerleave', () => {
      this.cursorPoint = null;
      this.cursorMoved();
      this.updateOverlay();
    });
    on(container, 'dblclick', () => editor.complete());
    on(container, 'wheel', (event) => {
      event.preventDefault();
      const factor = Math.pow(1.0015, -event.deltaY * (event.deltaMode === 1 ? 16 : 1));
      this.zoomAt(this.screenPoint(event), this.scale * factor);
    }, { passive: false });
    on(container, 'contextmenu', (event) => event.preventDefault());
    on(window, 'keydown', (event) => {
      if (event.key === ' ' && event.target === container) {
        event.preventDefault();
        this.spaceHeld = true;
        container.dataset.pan = 'true';
      }
    });
    on(window, 'keyup', (event) => {
      if (event.key === ' ') {
        this.spaceHeld = false;
        delete container.dataset.pan;
      }
    });
  }

  private cursorMoved(): void {
    for (const listener of this.cursorListeners) listener(this.cursorPoint);
  }

  private updateOverlay(): void {
    const { editor } = this;
    const scale = this.scale;
    const brushLike = editor.tool === 'brush' || editor.tool === 'eraser';
    if (this.cursorPoint && brushLike) {
      this.cursor.visible(true);
      this.cursor.position(this.cursorPoint);
      this.cursor.radius(editor.brushRadius);
      this.cursor.strokeWidth(1.5 / scale);
      this.cursor.shadowBlur(2 / scale);
    } else this.cursor.visible(false);
    const points = editor.activeTool.outline;
    const flat = points.flatMap((point) => [point.x, point.y]);
    if (flat.length > 0 && this.cursorPoint && editor.busy && points.length > 0) flat.push(this.cursorPoint.x, this.cursorPoint.y);
    this.outline.points(flat);
    this.outline.strokeWidth(1.5 / scale);
    this.outline.dash([6 / scale, 4 / scale]);
    this.overlayLayer.batchDraw();
  }
}
