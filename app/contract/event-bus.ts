import type { EventChannelName, EventPayload } from './channels.js';

export type EventListener = (channel: EventChannelName, payload: unknown) => void;

/** Typed fan-out of host events (job progress, project changes) to every connected client. */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  emit<E extends EventChannelName>(channel: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) listener(channel, payload);
  }

  /** Every event, for forwarding to a connection (which validates each on the other side). */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One event, typed, for listeners inside the host. */
  on<E extends EventChannelName>(channel: E, listener: (payload: EventPayload<E>) => void): () => void {
    const typed = (name: EventChannelName, payload: unknown) => {
      // Only `emit` puts payloads here, and it typed this one for `channel`.
      if (name === channel) listener(payload as EventPayload<E>);
    };
    return this.subscribe(typed);
  }
}
