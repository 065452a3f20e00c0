import { eventChannels } from '../../app/contract/channels.js';
import { ContractClient } from '../../app/contract/client.js';
import type { DesktopBridge } from '../../app/contract/desktop-bridge.js';
import { fail } from '../../app/contract/envelope.js';
import { TransportListeners } from '../../app/contract/transport-listeners.js';
import type { Transport, WireMessage } from '../../app/contract/wire.js';

/** The preload's API when running inside the desktop app, else null (browser mode). */
export function desktopBridge(): DesktopBridge | null {
  return (globalThis as { unetStudio?: DesktopBridge }).unetStudio ?? null;
}

/** A ContractClient over the preload API: the same typed, validated client browser mode uses. */
export function connectDesktopContract(bridge: DesktopBridge): ContractClient {
  return new ContractClient(createBridgeTransport(bridge));
}

/** Turns the bridge's calls into wire messages, so ContractClient validates them as on any transport. */
function createBridgeTransport(bridge: DesktopBridge): Transport {
  const listeners = new TransportListeners();
  let seq = 0;
  // What the bridge hands over is not trusted: the client validates each message as on any transport.
  const deliver = (message: { kind: WireMessage['kind']; id?: string; channel?: string; payload?: unknown; result?: unknown }) => {
    seq += 1;
    listeners.emitMessage({ ...message, seq });
  };
  const unsubscribe = Object.keys(eventChannels).map((channel) =>
    bridge.on(channel, (payload) => deliver({ kind: 'event', channel, payload })),
  );
  return {
    send(message) {
      if (message.kind === 'cancel') return bridge.cancel(message.id);
      if (message.kind !== 'request') return;
      const call = bridge.invoke[message.channel];
      const answer = call
        ? call(message.payload, message.id)
        : Promise.resolve(fail({ code: 'unknown_channel', message: `Unknown channel "${message.channel}".` }));
      answer.then(
        (result) => deliver({ kind: 'response', id: message.id, result }),
        (err: unknown) => deliver({ kind: 'response', id: message.id, result: fail({ code: 'io_error', message: String(err) }) }),
      );
    },
    onMessage: (listener) => listeners.onMessage(listener),
    onClose: (listener) => listeners.onClose(listener),
    close() {
      for (const stop of unsubscribe) stop();
      listeners.emitClose();
    },
  };
}
