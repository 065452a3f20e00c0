export type SaveState = 'saved' | 'unsaved' | 'saving' | 'error';

export interface AutosaveOptions {
  /** Saves these tiles; rejects with a user-facing Error when the host could not store them. */
  save: (tiles: number[]) => Promise<void>;
  /** True while a stroke is in progress: saving waits until it ends. */
  busy: () => boolean;
  delayMs?: number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/**
 * Debounced autosave of changed tiles: waits `delayMs` after the last finished step, never saves
 * mid-stroke, runs one save at a time and keeps tiles that failed to save for the next attempt.
 */
export class Autosaver {
  private readonly pending = new Set<number>();
  private timer: unknown = null;
  private running: Promise<void> | null = null;
  private current: SaveState = 'saved';
  private lastError: string | null = null;
  private readonly listeners = new Set<(state: SaveState, error: string | null) => void>();
  private readonly delayMs: number;
  private readonly setTimer: NonNullable<AutosaveOptions['setTimer']>;
  private readonly clearTimer: NonNullable<AutosaveOptions['clearTimer']>;

  constructor(private readonly options: AutosaveOptions) {
    this.delayMs = options.delayMs ?? 800;
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  }

  get state(): SaveState {
    return this.current;
  }

  get error(): string | null {
    return this.lastError;
  }

  get hasUnsaved(): boolean {
    return this.pending.size > 0 || this.running !== null;
  }

  onState(listener: (state: SaveState, error: string | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records tiles changed by a finished step and schedules a save. */
  changed(tiles: readonly number[]): void {
    if (tiles.length === 0) return;
    for (const tile of tiles) this.pending.add(tile);
    if (!this.running) this.setState('unsaved', null);
    this.schedule();
  }

  /** Saves everything pending now (image switch, closing); resolves when all is stored or rejects. */
  async flush(): Promise<void> {
    this.cancelTimer();
    while (this.running || this.pending.size > 0) {
      if (this.running) await this.running.catch(() => undefined);
      else await this.saveNow();
      if (this.current === 'error') throw new Error(this.lastError ?? 'The mask could not be saved.');
    }
  }

  dispose(): void {
    this.cancelTimer();
    this.listeners.clear();
  }

  private schedule(): void {
    this.cancelTimer();
    this.timer = this.setTimer(() => {
      this.timer = null;
      if (this.options.busy()) this.schedule();
      else if (this.running) this.schedule();
      else void this.saveNow();
    }, this.delayMs);
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }

  private saveNow(): Promise<void> {
    const tiles = [...this.pending];
    this.pending.clear();
    this.setState('saving', null);
    this.running = this.options.save(tiles).then(
      () => {
        this.running = null;
        if (this.pending.size > 0) {
          this.setState('unsaved', null);
          this.schedule();
        } else this.setState('saved', null);
      },
      (error: unknown) => {
        this.running = null;
        for (const tile of tiles) this.pending.add(tile);
        this.setState('error', error instanceof Error ? error.message : String(error));
      },
    );
    return this.running;
  }

  private setState(state: SaveState, error: string | null): void {
    this.current = state;
    this.lastError = error;
    for (const listener of this.listeners) listener(state, error);
  }
}
