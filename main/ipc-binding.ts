import type { IpcMain, IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import { type RequestChannelName, requestChannels } from '../app/contract/channels.js';
import { fail } from '../app/contract/envelope.js';
import type { EventBus } from '../app/contract/event-bus.js';
import type { HandlerRegistry } from '../app/contract/registry.js';
import { CANCEL_CHANNEL } from './preload-arguments.js';
import { type IpcSender, isTrustedSender } from './sender-check.js';

export type IpcMainLike = Pick<IpcMain, 'handle' | 'removeHandler' | 'on' | 'removeListener'>;

export interface ContractBinding {
  registry: HandlerRegistry;
  /** True for the WebContents of the app's own windows. */
  isAppWindow(webContentsId: number): boolean;
  /** The connection signal of the page a WebContents shows (PageConnections): handlers tie what outlives a request to it. */
  connection?(webContentsId: number): AbortSignal;
}

const REFUSED = fail({ code: 'unauthorized', message: 'This message did not come from the U-Net Studio window.' });
const MAX_REQUEST_ID_LENGTH = 64;

/**
 * Binds every request channel of the contract to `ipcMain.handle`. The sender is checked first
 * (main frame of an app window on app://studio); only then does the registry validate the payload
 * and run the service. Each request gets an AbortSignal that fires on a `unet:cancel` message from
 * the same window. Returns a function that removes the bindings.
 */
export function bindContract(ipcMain: IpcMainLike, binding: ContractBinding): () => void {
  const inFlight = new Map<string, AbortController>();
  const channels = Object.keys(requestChannels) as RequestChannelName[];

  for (const channel of channels) {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, payload: unknown, requestId?: unknown) => {
      if (!isTrustedSender(event as IpcSender, binding.isAppWindow)) return REFUSED;
      const key = typeof requestId === 'string' && requestId.length <= MAX_REQUEST_ID_LENGTH ? `${event.sender.id}:${requestId}` : null;
      const controller = new AbortController();
      if (key) inFlight.set(key, controller);
      try {
        return await binding.registry.dispatch(channel, payload, { signal: controller.signal, connection: binding.connection?.(event.sender.id) });
      } finally {
        if (key) inFlight.delete(key);
      }
    });
  }

  const onCancel = (event: IpcMainEvent, requestId: unknown) => {
    if (!isTrustedSender(event as IpcSender, binding.isAppWindow) || typeof requestId !== 'string') return;
    inFlight.get(`${event.sender.id}:${requestId}`)?.abort();
  };
  ipcMain.on(CANCEL_CHANNEL, onCancel);

  return () => {
    for (const channel of channels) ipcMain.removeHandler(channel);
    ipcMain.removeListener(CANCEL_CHANNEL, onCancel);
    for (const controller of inFlight.values()) controller.abort();
  };
}

/** The part of WebContents events are sent through. */
export interface EventTarget {
  isDestroyed(): boolean;
  send(channel: string, payload: unknown): void;
}

/** Forwards every host event (job progress, job finished, project changes…) to the window. */
export function forwardEvents(events: EventBus, target: () => EventTarget | null): () => void {
  return events.subscribe((channel, payload) => {
    const contents = target();
    if (contents && !contents.isDestroyed()) contents.send(channel, payload);
  });
}
