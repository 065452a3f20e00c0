import { z } from 'zod';
import { EnvelopeSchema } from './envelope.js';
import type { ProblemReporter } from './protocol-problems.js';
import { SequencedPort } from './sequenced-port.js';

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

/** A duplex message pipe: in-memory for tests, WebSocket for browser mode, Electron IPC for the desktop. */
export interface Transport {
  send(message: WireMessage): void;
  onMessage(listener: (message: unknown) => void): () => void;
  onClose(listener: () => void): () => void;
  close(): void;
}

/** One end of a transport: numbered, validated contract messages; refused ones go to `report`. */
export function sequencedChannel(transport: Transport, name: string, report?: ProblemReporter): SequencedPort<WireMessage, WireMessage> {
  return new SequencedPort<WireMessage, WireMessage>(WireMessage, (message) => transport.send(message), name, report);
}
