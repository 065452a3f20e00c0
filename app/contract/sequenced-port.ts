import type { z } from 'zod';

type Unsequenced<T> = T extends unknown ? Omit<T, 'seq'> : never;

/**
 * One end of a message pipe that numbers what it sends (seq) and validates what it receives,
 * refusing malformed messages and replays instead of acting on them twice. Used by the contract's
 * transports and by the trainer process protocol alike.
 */
export class SequencedPort<In extends { seq: number }, Out extends { seq: number }> {
  private sent = 0;
  private lastReceived = 0;

  constructor(
    private readonly schema: z.ZodType<In>,
    private readonly post: (message: Out) => void,
  ) {}

  send(message: Unsequenced<Out>): void {
    this.sent += 1;
    this.post({ ...message, seq: this.sent } as unknown as Out);
  }

  accept(raw: unknown): In | null {
    const parsed = this.schema.safeParse(raw);
    if (!parsed.success || parsed.data.seq <= this.lastReceived) return null;
    this.lastReceived = parsed.data.seq;
    return parsed.data;
  }
}
