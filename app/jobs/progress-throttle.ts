/**
 * Lets through at most one progress report per interval (plus always the last one on flush), so a
 * job touching thousands of files does not flood the transport and the UI with events.
 */
export class ProgressThrottle<T> {
  private lastSentAt = -Infinity;
  private pending: T | null = null;

  constructor(
    private readonly send: (value: T) => void,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  report(value: T): void {
    const time = this.now();
    if (time - this.lastSentAt >= this.intervalMs) {
      this.lastSentAt = time;
      this.pending = null;
      this.send(value);
    } else {
      this.pending = value;
    }
  }

  flush(): void {
    if (this.pending === null) return;
    const value = this.pending;
    this.pending = null;
    this.lastSentAt = this.now();
    this.send(value);
  }
}
