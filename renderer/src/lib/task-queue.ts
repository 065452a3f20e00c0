/**
 * Runs at most `concurrency` tasks at a time, in call order. A task whose signal aborts while it is
 * still waiting is dropped without running, so scrolling past thumbnails never queues their work.
 */
export class TaskQueue {
  private running = 0;
  private readonly waiting: Array<{ start: () => void; signal: AbortSignal | undefined }> = [];

  constructor(private readonly concurrency: number) {}

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw abortError();
    if (this.running >= this.concurrency) {
      await new Promise<void>((start, reject) => {
        const entry = { start, signal };
        this.waiting.push(entry);
        signal?.addEventListener(
          'abort',
          () => {
            const index = this.waiting.indexOf(entry);
            if (index >= 0) this.waiting.splice(index, 1);
            reject(abortError());
          },
          { once: true },
        );
      });
    } else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next.start(); // the slot passes straight to the next waiting task
      else this.running -= 1;
    }
  }

  get pending(): number {
    return this.waiting.length;
  }
}

function abortError(): DOMException {
  return new DOMException('Cancelled.', 'AbortError');
}
