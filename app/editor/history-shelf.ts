import { DEFAULT_HISTORY_BYTES, type EditHistory } from './history.js';

/** Images whose undo history is kept once the editor moves on, and the bytes all of them may hold. */
export const SHELF_IMAGES = 32;
export const SHELF_BYTES = DEFAULT_HISTORY_BYTES / 2;

/**
 * The undo histories of images the editor left in this session, so undo still works after coming
 * back to an image. Bounded: past `maxImages` histories or `maxBytes` in all, the least recently
 * left image loses its history first.
 */
export class HistoryShelf {
  private readonly shelved = new Map<string, EditHistory>();

  constructor(
    readonly maxImages = SHELF_IMAGES,
    readonly maxBytes = SHELF_BYTES,
  ) {}

  /** Keeps the history of an image being left (an empty one is not worth keeping). */
  put(id: string, history: EditHistory): void {
    this.shelved.delete(id);
    if (!history.canUndo && !history.canRedo) return;
    this.shelved.set(id, history);
    let bytes = this.byteSize;
    for (const [oldest, dropped] of this.shelved) {
      if (this.shelved.size <= this.maxImages && bytes <= this.maxBytes) break;
      this.shelved.delete(oldest);
      bytes -= dropped.byteSize;
    }
  }

  /** The history of an image shown again (it leaves the shelf: the editor holds it now). */
  take(id: string): EditHistory | null {
    const history = this.shelved.get(id) ?? null;
    this.shelved.delete(id);
    return history;
  }

  /** Forgets an image's history (its last save failed, so the stored mask is not where the history ends). */
  drop(id: string, history: EditHistory): void {
    if (this.shelved.get(id) === history) this.shelved.delete(id);
  }

  has(id: string): boolean {
    return this.shelved.has(id);
  }

  get byteSize(): number {
    let bytes = 0;
    for (const history of this.shelved.values()) bytes += history.byteSize;
    return bytes;
  }
}
