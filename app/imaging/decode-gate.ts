/**
 * libvips keeps one error buffer for the whole process, and sharp takes whatever it holds when a call
 * fails: two files failing at the same time on two threads can each get the other's message (a
 * truncated PNG reported as "VipsJpeg: premature end of JPEG image"). So decodes pass through this
 * gate: any number run together, and a failed one is run again alone (no other decode in flight),
 * where the message can only be its own.
 */
export class DecodeGate {
  private running = 0;
  private drained: (() => void) | null = null;
  private alone: Promise<unknown> = Promise.resolve();
  /** Solo runs queued or running; while there are any, no new shared run starts. */
  private soloRuns = 0;

  async shared<T>(work: () => Promise<T>): Promise<T> {
    while (this.soloRuns > 0) await this.alone.catch(() => undefined);
    this.running += 1;
    try {
      return await work();
    } finally {
      this.running -= 1;
      if (this.running === 0) this.drained?.();
    }
  }

  solo<T>(work: () => Promise<T>): Promise<T> {
    this.soloRuns += 1;
    const run = this.alone
      .catch(() => undefined)
      .then(async () => {
        if (this.running > 0) await new Promise<void>((resolve) => (this.drained = resolve));
        this.drained = null;
        return work();
      })
      .finally(() => {
        this.soloRuns -= 1;
      });
    this.alone = run;
    return run;
  }

  /** Runs `work` with others; if it fails, runs it once more alone and settles with that outcome. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.shared(work);
    } catch {
      // The first failure's message may belong to another file; the solo run's is this one's.
      return this.solo(work);
    }
  }
}

/** The gate every image decode in this process goes through. */
export const imageDecodes = new DecodeGate();
