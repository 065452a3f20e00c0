import type { z } from 'zod';
import { type ProblemReporter, logProblem, schemaProblem } from './protocol-problems.js';

type Unsequenced<T> = T extends unknown ? Omit<T, 'seq'> : never;

/**
 * One end of a message pipe that numbers what it sends (seq) and validates what it receives,
 * refusing malformed messages and replays instead of acting on them twice; each refusal is
 * reported with the pipe's name. Used by the contract's transports and by the worker processes alike.
 */
export class SequencedPort<In extends { seq: number }, Out extends { seq: number }> {
  private sent = 0;
  private lastReceived = 0;

  constructor(
    private readonly schema: z.ZodType<In>,
    private readonly post: (message: Out) => void,
    private readonly name: string,
    private readonly report: ProblemReporter = logProblem,
  ) {}

  send(message: Unsequenced<Out>): void {
    this.sent += 1;
    this.post({ ...message, seq: this.sent } as unknown as Out);
  }

  accept(raw: unknown): In | null {
    const parsed = this.schema.safeParse(raw);
    if (!parsed.success) {
      this.report(schemaProblem(this.name, parsed.error));
      return null;
    }
    if (parsed.data.seq <= this.lastReceived) {
      this.report({ channel: this.name, problem: `message ${parsed.data.seq} arrived after message ${this.lastReceived} (a replay, or out of order)` });
      return null;
    }
    this.lastReceived = parsed.data.seq;
    return parsed.data;
  }
}
