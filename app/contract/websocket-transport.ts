import { TransportListeners } from './transport-listeners.js';
import type { Transport, WireMessage } from './wire.js';

/** The part of the WebSocket API shared by browsers and the `ws` package. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: () => void): void;
}

const OPEN = 1;

/** The contract over a WebSocket, one JSON text frame per message; used by both ends of browser mode. */
export function createWebSocketTransport(socket: WebSocketLike): Transport {
  const listeners = new TransportListeners();
  socket.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(event.data);
    } catch {
      return; // not a contract message; the sequenced channel would refuse it anyway
    }
    listeners.emitMessage(message);
  });
  socket.addEventListener('close', () => listeners.emitClose());
  return {
    send(message: WireMessage) {
      if (socket.readyState === OPEN) socket.send(JSON.stringify(message));
    },
    onMessage: (listener) => listeners.onMessage(listener),
    onClose: (listener) => listeners.onClose(listener),
    close() {
      socket.close(1000, 'closed by client');
    },
  };
}
