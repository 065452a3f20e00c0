import { TransportListeners } from './transport-listeners.js';
import type { Transport, WireMessage } from './wire.js';

/**
 * Two connected in-process ends. Messages are structured-cloned and delivered on a later microtask,
 * like a real transport: no shared references, no synchronous re-entry.
 */
export function createMemoryTransportPair(): [Transport, Transport] {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class MemoryEnd implements Transport {
  peer: MemoryEnd | null = null;
  private readonly listeners = new TransportListeners();
  private closed = false;

  send(message: WireMessage): void {
    const peer = this.peer;
    if (this.closed || !peer) return;
    const copy = structuredClone(message);
    queueMicrotask(() => peer.deliver(copy));
  }

  onMessage(listener: (message: unknown) => void): () => void {
    return this.listeners.onMessage(listener);
  }

  onClose(listener: () => void): () => void {
    return this.listeners.onClose(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.emitClose();
    this.peer?.close();
  }

  private deliver(message: unknown): void {
    if (this.closed) return;
    this.listeners.emitMessage(message);
  }
}
