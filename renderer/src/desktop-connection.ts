import { eventChannels } from '../../app/contract/channels.js';
import { ContractClient } from '../../app/contract/client.js';
import { fail } from '../../app/contract/envelope.js';
import { TransportListeners } from '../../app/contract/transport-listeners.js';
import type { Transport, WireMessage } from '../../app/contract/wire.js';

/**
 * What the desktop preload (main/preload.cts) exposes as `window.unetStudio`: one function per
 * request channel of the contract, per-request cancellation and event subscription. Nothing else
 * of Electron reaches the page.
 */
export interface DesktopBridge {
  invoke: Record<string, (input: unknown, requestId: string) => Promise<unknown>>;
  cancel(requestId: string): void;
  on(event: string, listener: (payload: unknown) => void): () => void;
}

/** The preload's API when running inside the desktop app, else null (browser mode). */
export function desktopBridge(): DesktopBridge | null {
  return (globalThis as { unetStudio?: DesktopBridge }).unetStudio ?? null;
}

/** A ContractClient over the preload API: the same typed, validated client browser mode uses. */
export function connectDesktopContract(bridge: DesktopBridge): ContractClient {
  return new ContractClient(createBridgeTransport(bridge));
}

/**
 * URL of a file inside an open project (full-size images, masks), served by the desktop app's
 * `app:` protocol; main/project-files.ts reads the same layout.
 */
export function projectFileUrl(projectRoot: string, relativeFile: string): string {
  const bytes = new TextEncoder().encode(projectRoot);
  const key = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `app://studio/project/${key}/${relativeFile.split('/').map(encodeURIComponent).join('/')}`;
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
