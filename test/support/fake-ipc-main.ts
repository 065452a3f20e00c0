// Stand-ins for Electron's ipcMain and its events: the Electron runtime cannot start on the test
// machines, so the shell's tests play the renderer with these (the registry and services are real).
import assert from 'node:assert/strict';
import type { Envelope } from '../../app/contract/envelope.js';

type Listener = (event: unknown, ...args: unknown[]) => unknown;

/** Stand-in for ipcMain: records handlers and lets the test play the renderer. */
export class FakeIpcMain {
  readonly handlers = new Map<string, Listener>();
  readonly listeners = new Map<string, Listener>();
  handle(channel: string, listener: Listener) {
    assert.ok(!this.handlers.has(channel), `${channel} bound twice`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string) {
    this.handlers.delete(channel);
  }
  on(channel: string, listener: Listener) {
    this.listeners.set(channel, listener);
    return this;
  }
  removeListener(channel: string) {
    this.listeners.delete(channel);
    return this;
  }
  invoke(channel: string, event: SenderEvent, ...args: unknown[]): Promise<Envelope<unknown>> {
    return this.handlers.get(channel)!(event, ...args) as Promise<Envelope<unknown>>;
  }
}

export interface Frame {
  url: string;
  origin: string;
  parent: Frame | null;
}
export interface SenderEvent {
  sender: { id: number; mainFrame: Frame };
  senderFrame: Frame | null;
}

export const WINDOW_ID = 7;
export function appFrame(): Frame {
  return { url: 'app://studio/index.html?project=x', origin: 'app://studio', parent: null };
}
export function fromMainFrame(): SenderEvent {
  const frame = appFrame();
  return { sender: { id: WINDOW_ID, mainFrame: frame }, senderFrame: frame };
}
