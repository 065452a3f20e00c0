import { z } from 'zod';
import {
  type ChannelInput,
  type ChannelOutput,
  type EventChannelName,
  type EventPayload,
  type RequestChannelName,
  eventChannels,
  isEventChannel,
  requestChannels,
} from './channels.js';
import { type Envelope, fail } from './envelope.js';
import { type ProblemReporter, logProblem, schemaProblem } from './protocol-problems.js';
import { sequencedChannel, type Transport } from './wire.js';

interface Pending {
  channel: RequestChannelName;
  resolve: (result: Envelope<unknown>) => void;
}

/**
 * The typed caller's end of the contract (renderer, CLI tests, Electron preload). It validates what
 * it receives: responses against the channel's output schema and events against their payload schema.
 * An event or message that fails is reported (by default on the console) with its channel and the
 * zod issues, never silently dropped.
 */
export class ContractClient {
  private readonly channel: ReturnType<typeof sequencedChannel>;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Map<EventChannelName, Set<(payload: never) => void>>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly report: ProblemReporter = logProblem,
  ) {
    this.channel = sequencedChannel(transport, 'the contract', report);
    transport.onMessage((raw) => this.receive(raw));
    transport.onClose(() => this.failAll('The connection to the U-Net Studio host closed.'));
  }

  invoke<C extends RequestChannelName>(
    channel: C,
    input: ChannelInput<C>,
    options: { signal?: AbortSignal } = {},
  ): Promise<Envelope<ChannelOutput<C>>> {
    if (this.closed) return Promise.resolve(fail({ code: 'io_error', message: 'The connection is closed.' }));
    const { signal } = options;
    if (signal?.aborted) return Promise.resolve(fail({ code: 'cancelled', message: 'Cancelled.' }));
    const id = `r${this.nextId++}`;
    return new Promise((resolve) => {
      const onAbort = () => {
        // The host sees the cancel and stops the work; the caller need not wait for its answer.
        this.pending.delete(id);
        this.channel.send({ kind: 'cancel', id });
        resolve(fail({ code: 'cancelled', message: 'Cancelled.' }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        channel,
        resolve: (result) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(result as Envelope<ChannelOutput<C>>);
        },
      });
      this.channel.send({ kind: 'request', id, channel, payload: input });
    });
  }

  on<E extends EventChannelName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  close(): void {
    this.transport.close();
    this.failAll('The connection is closed.');
  }

  private receive(raw: unknown): void {
    const message = this.channel.accept(raw);
    if (!message) return;
    if (message.kind === 'response') {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      pending.resolve(this.checkOutput(pending.channel, message.result));
    } else if (message.kind === 'event') {
      const name = message.channel;
      if (!isEventChannel(name)) return this.report({ channel: name, problem: 'there is no such event in the contract' });
      const parsed = eventChannels[name].safeParse(message.payload);
      if (!parsed.success) return this.report(schemaProblem(name, parsed.error));
      for (const listener of this.listeners.get(name) ?? []) listener(parsed.data as never);
    }
  }

  private checkOutput(channel: RequestChannelName, result: Envelope<unknown>): Envelope<unknown> {
    if (!result.ok) return result;
    const parsed = requestChannels[channel].output.safeParse(result.value);
    if (parsed.success) return { ok: true, value: parsed.data };
    return fail({
      code: 'internal',
      message: `The host answered "${channel}" with data that does not match the contract: ${z.prettifyError(parsed.error)}`,
    });
  }

  private failAll(message: string): void {
    this.closed = true;
    for (const pending of this.pending.values()) pending.resolve(fail({ code: 'io_error', message }));
    this.pending.clear();
  }
}
