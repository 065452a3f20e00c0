import { z } from 'zod';
import { EnvelopeSchema } from './envelope.js';

/**
 * Messages on any transport. Each sender numbers its messages (seq) so a receiver can refuse
 * replays and out-of-order delivery instead of acting on them twice.
 */
const seq = z.number().int().min(1);

export const WireMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('request'), seq, id: z.string().min(1), channel: z.string(), payload: z.unknown() }),
  z.object({ kind: z.literal('cancel'), seq, id: z.string().min(1) }),
  z.object({ kind: z.literal('response'), seq, id: z.string().min(1), result: EnvelopeSchema }),
  z.object({ kind: z.literal('event'), seq, channel: z.string(), payload: z.unknown() }),
]);
export type WireMessage = z.infer<typeof WireMessage>;

/** A message before the sender stamps its sequence number. */
export type OutgoingMessage = WireMessage extends infer M ? (M extends { seq: number } ? Omit<M, 'seq'> : never) : never;

/** A duplex message pipe: in-memory for tests, WebSocket for browser mode, Electron IPC for the desktop. */
export interface Transport {
  send(message: WireMessage): void;
  onMessage(listener: (message: unknown) => void): () => void;
  onClose(listener: () => void): () => void;
  close(): void;
}

/** Stamps outgoing messages and checks incoming ones, one instance per end of a transport. */
export class SequencedChannel {
  private sent = 0;
  private lastReceived = 0;

  constructor(private readonly transport: Transport) {}

  send(message: OutgoingMessage): void {
    this.sent += 1;
    this.transport.send({ ...message, seq: this.sent } as WireMessage);
  }

  /** Parses and orders an incoming message; returns null for malformed or replayed ones. */
  accept(raw: unknown): WireMessage | null {
    const parsed = WireMessage.safeParse(raw);
    if (!parsed.success || parsed.data.seq <= this.lastReceived) return null;
    this.lastReceived = parsed.data.seq;
    return parsed.data;
  }
}
