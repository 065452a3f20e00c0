// The sandboxed preload: CommonJS (Electron 45 runs no ESM in sandboxed preloads) and it may only
// require 'electron', so the flag names below mirror main/preload-arguments.ts (a test checks they
// agree by running this file against main's arguments). It exposes the contract as functions,
// one per request channel, plus event subscription; never ipcRenderer itself or its event objects.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { DesktopBridge } from '../app/contract/desktop-bridge.js' with { 'resolution-mode': 'import' };

const REQUEST_CHANNELS_FLAG = '--unet-request-channels=';
const EVENT_CHANNELS_FLAG = '--unet-event-channels=';
const CANCEL_CHANNEL = 'unet:cancel';
const CHANNEL_NAME_PATTERN = /^[a-z]+(\.[A-Za-z]+)+$/;

function channelNames(flag: string): string[] {
  const argument = process.argv.find((arg) => arg.startsWith(flag));
  return (argument?.slice(flag.length).split(',') ?? []).filter((name) => CHANNEL_NAME_PATTERN.test(name));
}

const eventNames = new Set(channelNames(EVENT_CHANNELS_FLAG));

const invoke: DesktopBridge['invoke'] = {};
for (const channel of channelNames(REQUEST_CHANNELS_FLAG)) {
  invoke[channel] = (input: unknown, requestId: string) => ipcRenderer.invoke(channel, input, String(requestId));
}

const bridge: DesktopBridge = {
  invoke: Object.freeze(invoke),
  cancel: (requestId) => ipcRenderer.send(CANCEL_CHANNEL, String(requestId)),
  on: (event, listener) => {
    if (!eventNames.has(event)) throw new Error(`Unknown event "${event}".`);
    const forward = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(event, forward);
    return () => {
      ipcRenderer.removeListener(event, forward);
    };
  },
};

contextBridge.exposeInMainWorld('unetStudio', bridge);
