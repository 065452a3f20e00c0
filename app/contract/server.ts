import type { EventBus } from './event-bus.js';
import type { HandlerRegistry } from './registry.js';
import { sequencedChannel, type Transport } from './wire.js';

/**
 * Serves a registry over one transport connection: requests run with their own AbortSignal, which
 * fires on a `cancel` message from the client or when the connection closes, and the connection's
 * signal (what outlives a request but not its page) fires when it closes; host events are forwarded.
 * Returns a function that detaches the connection.
 */
export function serveContract(registry: HandlerRegistry, transport: Transport, events?: EventBus): () => void {
  const channel = sequencedChannel(transport, 'the contract (host side)');
  const inFlight = new Map<string, AbortController>();
  const connection = new AbortController();

  const stopMessages = transport.onMessage((raw) => {
    const message = channel.accept(raw);
    if (!message) return;
    if (message.kind === 'cancel') {
      inFlight.get(message.id)?.abort();
      return;
    }
    if (message.kind !== 'request' || inFlight.has(message.id)) return;
    const controller = new AbortController();
    inFlight.set(message.id, controller);
    void registry
      .dispatch(message.channel, message.payload, { signal: controller.signal, connection: connection.signal })
      .then((result) => {
        inFlight.delete(message.id);
        if (!closed) channel.send({ kind: 'response', id: message.id, result });
      });
  });

  const stopEvents = events?.subscribe((name, payload) => {
    if (!closed) channel.send({ kind: 'event', channel: name, payload });
  });

  let closed = false;
  const detach = () => {
    if (closed) return;
    closed = true;
    stopMessages();
    stopEvents?.();
    stopClose();
    for (const controller of inFlight.values()) controller.abort();
    inFlight.clear();
    connection.abort();
  };
  const stopClose = transport.onClose(detach);
  return detach;
}
