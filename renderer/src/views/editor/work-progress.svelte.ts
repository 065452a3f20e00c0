/** Work shown only once it has run this long, so quick fills and loads never flash a bar. */
export const SHOW_AFTER_MS = 100;

export interface WorkItem {
  id: number;
  label: string;
  /** Units done so far and of how many (null: not known, e.g. a flood fill's region). */
  done: number;
  total: number | null;
  /** What `done` counts (pixels, tiles); empty when there is nothing to count. */
  unit: string;
  /** Set once the work has lasted SHOW_AFTER_MS. */
  shown: boolean;
}

/** A handle on one piece of work: report progress, then end it (or fail it with a problem in plain words). */
export interface WorkHandle {
  update(done: number, total?: number | null): void;
  end(): void;
}

/**
 * The editor's long work in progress (fills, undo of big regions, the full-resolution image
 * arriving): what the progress bar shows. A problem (a failed fill) stays until the next work starts.
 */
export class WorkProgress {
  items = $state.raw<WorkItem[]>([]);
  problem = $state<string | null>(null);
  private nextId = 0;

  start(label: string, unit: string, total: number | null = null): WorkHandle {
    const id = ++this.nextId;
    this.problem = null;
    this.items = [...this.items, { id, label, done: 0, total, unit, shown: false }];
    const timer = setTimeout(() => this.patch(id, { shown: true }), SHOW_AFTER_MS);
    return {
      update: (done, total) => this.patch(id, total === undefined ? { done } : { done, total }),
      end: () => {
        clearTimeout(timer);
        this.items = this.items.filter((item) => item.id !== id);
      },
    };
  }

  fail(problem: string): void {
    this.problem = problem;
  }

  private patch(id: number, change: Partial<WorkItem>): void {
    this.items = this.items.map((item) => (item.id === id ? { ...item, ...change } : item));
  }
}
