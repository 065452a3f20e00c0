import type { EventChannelName, EventPayload } from './channels.js';

export type EventListener = (channel: EventChannelName, payload: unknown) => void;

/** Typed fan-out of host events (job progress, project changes) to every connected client. */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  emit<E extends EventChannelName>(channel: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) listener(channel, payload);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
