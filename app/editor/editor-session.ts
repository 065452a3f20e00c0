import { Autosaver, type SaveState } from './autosave.js';
import { type EditorCommand, type SessionCommand, isMaskCommand } from './commands.js';
import { HistoryShelf } from './history-shelf.js';
import { MaskEditor, type MaskEditorState } from './mask-editor.js';
import { TiledLabelMap } from './tiled-label-map.js';

/** One image as the editor gets it from the host; `Picture` is whatever the view draws (an ImageBitmap in the browser). */
export interface EditorImage<Picture> {
  id: string;
  name: string;
  width: number;
  height: number;
  picture: Picture;
  /** The stored mask, or null while the image is unlabelled. */
  mask: TiledLabelMap | null;
  prediction: TiledLabelMap | null;
}

/** What the editor needs from its host (the contract, in the studio). */
export interface EditorHost<Picture> {
  /** Loads an image; rejects with a user-facing Error. Stops early (any outcome) when `signal` aborts. */
  load(id: string, signal: AbortSignal): Promise<EditorImage<Picture>>;
  /** Frees a picture no longer shown, or one that arrived after its load was superseded. */
  release(picture: Picture): void;
  /** Stores these tiles of the image's mask; rejects with a user-facing Error. */
  save(id: string, map: TiledLabelMap, tiles: number[]): Promise<void>;
  /** The editor left this image and its last save has settled (saved or failed). */
  left?(id: string): void;
}

/** The part of the canvas the zoom commands drive (MaskStage in the studio). */
export interface Viewport {
  fit(): void;
  actualSize(): void;
  zoomBy(factor: number): void;
}

/** `loading`: the image asked for last is on its way; `failed`: it could not be loaded (see `problem`). */
export type LoadPhase = 'empty' | 'loading' | 'ready' | 'failed';

export interface EditorSessionState {
  phase: LoadPhase;
  /** The image asked for last: the one shown, or the one loading. */
  imageId: string | null;
  /** The image shown (it stays while the next one loads or fails to). */
  image: { id: string; name: string; width: number; height: number; hasPrediction: boolean } | null;
  problem: string | null;
  /** Where `imageId` stands in the image list (-1 when it is not in it), and the list's length. */
  position: number;
  count: number;
  /** Tool, class, brush and history: the shown image's, or those the next image will start with. */
  mask: MaskEditorState;
  save: { state: SaveState; error: string | null };
  /** How the layers look: mask opacity, the mask hidden or drawn as outlines, the prediction shown. */
  display: { maskOpacity: number; showMask: boolean; maskOutline: boolean; showPrediction: boolean };
  /** The help overlay with every key is open. */
  help: boolean;
  zoom: number;
}

interface Shown<Picture> {
  image: EditorImage<Picture>;
  editor: MaskEditor;
  saver: Autosaver;
  stop(): void;
}

const ZOOM_STEP = 1.25;

/**
 * The mask editor as a store (as tldraw's editor is): the image list and which image is shown,
 * image loading, the MaskEditor and autosave of the shown image, display settings and zoom, all in
 * one observable state; every command, from a key, the desktop menu or a button, goes through
 * `execute`. Loading is cancellable: asking for another image abandons the load under way (its
 * picture is released when it arrives), so two quick "next image" presses end on the image two
 * further on, and a failed load ends in `failed` with its problem, never stuck in `loading`.
 */
export class EditorSession<Picture> {
  private order: readonly string[] = [];
  private shown: Shown<Picture> | null = null;
  private loading: AbortController | null = null;
  private stepping: Promise<void> = Promise.resolve();
  private viewport: Viewport | null = null;
  private readonly listeners = new Set<() => void>();
  private current: EditorSessionState;
  /** Tool, class and brush carry over from one image to the next. */
  private carried: MaskEditorState;
  /** Undo histories of the images left in this session, so coming back to one can still undo. */
  readonly histories = new HistoryShelf();

  constructor(
    private readonly host: EditorHost<Picture>,
    private readonly classCount: number,
    private readonly autosaveDelayMs = 600,
  ) {
    this.carried = new MaskEditor(new TiledLabelMap(1, 1), classCount).state; // what a fresh editor starts with
    this.current = {
      phase: 'empty',
      imageId: null,
      image: null,
      problem: null,
      position: -1,
      count: 0,
      mask: this.carried,
      save: { state: 'saved', error: null },
      display: { maskOpacity: 0.55, showMask: true, maskOutline: false, showPrediction: true },
      help: false,
      zoom: 1,
    };
  }

  get state(): EditorSessionState {
    return this.current;
  }

  /** The shown image with its MaskEditor, for the canvas; null before the first image is in. */
  get document(): { image: EditorImage<Picture>; editor: MaskEditor } | null {
    return this.shown;
  }

  /** Called after every change of `state` (a new object each time). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The images previous / next walk through, in the order the dataset shows them. */
  setOrder(ids: readonly string[]): void {
    if (ids.length === this.order.length && ids.every((id, index) => id === this.order[index])) return;
    this.order = ids;
    this.update({});
  }

  attachViewport(viewport: Viewport): () => void {
    this.viewport = viewport;
    return () => {
      if (this.viewport === viewport) this.viewport = null;
    };
  }

  /** The canvas reports its zoom here (wheel, fit, 1:1), so the state shows it. */
  zoomed(scale: number): void {
    if (scale !== this.current.zoom) this.update({ zoom: scale });
  }

  /** Shows an image, abandoning any load under way; asking for the image already shown or loading does nothing. */
  async open(id: string): Promise<void> {
    if (this.current.imageId === id && this.current.phase !== 'failed') return;
    this.loading?.abort();
    if (this.shown?.image.id === id) {
      this.loading = null;
      this.update({ phase: 'ready', imageId: id, problem: null });
      return;
    }
    const controller = new AbortController();
    this.loading = controller;
    this.update({ phase: 'loading', imageId: id, problem: null });
    let image: EditorImage<Picture>;
    try {
      image = await this.host.load(id, controller.signal);
    } catch (err) {
      if (this.loading !== controller) return; // superseded: its failure is no news
      this.loading = null;
      this.update({ phase: 'failed', problem: err instanceof Error ? err.message : String(err) });
      return;
    }
    if (this.loading !== controller) {
      this.host.release(image.picture);
      return;
    }
    this.loading = null;
    this.show(image);
  }

  /** Shows another image once the shown one is saved (as previous / next do); stays when that save fails. */
  goTo(id: string): Promise<void> {
    this.stepping = this.stepping.then(() => this.afterSaving(() => id));
    return this.stepping;
  }

  /** The one path for commands: editing commands go to the shown image's MaskEditor, the rest are the session's. */
  execute(command: EditorCommand): void {
    if (isMaskCommand(command)) this.shown?.editor.execute(command);
    else this.run(command);
  }

  /**
   * A newer prediction of an image (live assist): shown as the overlay and taken by the accept tool
   * when that image is shown; ignored otherwise.
   */
  setPrediction(id: string, prediction: TiledLabelMap): void {
    const shown = this.shown;
    if (!shown || shown.image.id !== id || prediction.width !== shown.image.width || prediction.height !== shown.image.height) return;
    shown.image.prediction = prediction;
    shown.editor.prediction = prediction;
    this.update({ image: { ...this.current.image!, hasPrediction: true } });
  }

  /** Ends a stroke in progress and saves now (tab hidden or closing); true when something was still unsaved. */
  saveNow(): boolean {
    const shown = this.shown;
    if (!shown) return false;
    shown.editor.settle();
    if (!shown.saver.hasUnsaved) return false;
    void shown.saver.flush().catch(() => undefined); // the save state shows the error
    return true;
  }

  /** Leaves the shown image (saving it in the background) and abandons any load. */
  dispose(): void {
    this.loading?.abort();
    this.loading = null;
    this.leave(this.shown);
    this.shown = null;
    this.listeners.clear();
  }

  private run(command: SessionCommand): void {
    const { display } = this.current;
    switch (command.kind) {
      case 'image':
        this.stepping = this.stepping.then(() => this.step(command.direction));
        return;
      case 'zoom':
        if (command.to === 'fit') this.viewport?.fit();
        else if (command.to === 'actual') this.viewport?.actualSize();
        else this.viewport?.zoomBy(command.to === 'in' ? ZOOM_STEP : 1 / ZOOM_STEP);
        return;
      case 'toggle-prediction':
        return this.update({ display: { ...display, showPrediction: !display.showPrediction } });
      case 'toggle-mask':
        return this.update({ display: { ...display, showMask: !display.showMask } });
      case 'toggle-outline':
        return this.update({ display: { ...display, maskOutline: !display.maskOutline } });
      case 'help':
        return this.update({ help: command.open ?? !this.current.help });
      case 'mask-opacity':
        return this.update({ display: { ...display, maskOpacity: Math.min(1, Math.max(0, command.opacity)) } });
      case 'retry-save':
        void this.shown?.saver.flush().catch(() => undefined); // the save state shows the error
        return;
    }
  }

  /** Steps from the image asked for last. */
  private step(direction: 1 | -1): Promise<void> {
    return this.afterSaving(() => {
      const from = this.current.imageId === null ? -1 : this.order.indexOf(this.current.imageId);
      return from < 0 ? undefined : this.order[from + direction];
    });
  }

  /** Saves the shown image first and stays on it when that fails; then opens `target()`, if any. */
  private async afterSaving(target: () => string | undefined): Promise<void> {
    const shown = this.shown;
    if (shown) {
      shown.editor.settle();
      try {
        await shown.saver.flush();
      } catch {
        return; // the save state shows the error; the user retries from here
      }
    }
    const next = target();
    if (next !== undefined) void this.open(next);
  }

  private show(image: EditorImage<Picture>): void {
    // Its history from an earlier visit fits the stored mask: it was shelved as that mask was saved.
    const editor = new MaskEditor(image.mask ?? new TiledLabelMap(image.width, image.height), this.classCount, this.histories.take(image.id) ?? undefined);
    editor.prediction = image.prediction;
    editor.setTool(this.carried.tool);
    editor.setLabel(this.carried.label);
    editor.setBrushRadius(this.carried.brushRadius);
    editor.setPreserveLabels(this.carried.preserveLabels);
    editor.setEraseToUnlabelled(this.carried.eraseToUnlabelled);
    const saver = new Autosaver({ save: (tiles) => this.host.save(image.id, editor.map, tiles), busy: () => editor.busy, delayMs: this.autosaveDelayMs });
    const stops = [
      editor.onChange((change) => saver.changed(change.tiles)),
      editor.subscribe(() => {
        this.carried = editor.state;
        this.update({ mask: editor.state });
      }),
      saver.onState((state, error) => this.update({ save: { state, error } })),
    ];
    const previous = this.shown;
    this.shown = { image, editor, saver, stop: () => stops.forEach((stop) => stop()) };
    this.leave(previous);
    this.carried = editor.state;
    this.update({
      phase: 'ready',
      image: { id: image.id, name: image.name, width: image.width, height: image.height, hasPrediction: image.prediction !== null },
      problem: null,
      mask: editor.state,
      save: { state: saver.state, error: saver.error },
    });
  }

  /** Saves what is left of an image in the background, then frees it. */
  private leave(shown: Shown<Picture> | null): void {
    if (!shown) return;
    shown.editor.settle(); // while still subscribed: a stroke it commits reaches the saver
    shown.stop();
    const { history } = shown.editor;
    this.histories.put(shown.image.id, history);
    void shown.saver
      .flush()
      // Its tiles stay unsaved (the error was shown while it was open), so the stored mask is not where its history ends.
      .catch(() => this.histories.drop(shown.image.id, history))
      .finally(() => {
        shown.saver.dispose();
        this.host.left?.(shown.image.id);
      });
    this.host.release(shown.image.picture);
  }

  private update(change: Partial<EditorSessionState>): void {
    const next = { ...this.current, ...change };
    next.position = next.imageId === null ? -1 : this.order.indexOf(next.imageId);
    next.count = this.order.length;
    this.current = next;
    for (const listener of this.listeners) listener();
  }
}
