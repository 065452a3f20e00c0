// The contract over Electron IPC: every channel bound, senders checked before anything else, the
// preload exposing exactly the contract. Electron's objects are small stand-ins here because the
// Electron runtime cannot start on the test machines; the registry, services and files are real.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { eventChannels, requestChannels } from '../app/contract/channels.js';
import { EventBus } from '../app/contract/event-bus.js';
import { HandlerRegistry, type HandlerContext } from '../app/contract/registry.js';
import { createAppServices } from '../app/services/app-services.js';
import { electronDialogs, type DialogApi } from '../main/dialogs.js';
import { bindContract, forwardEvents, type IpcMainLike } from '../main/ipc-binding.js';
import { CANCEL_CHANNEL, preloadArguments } from '../main/preload-arguments.js';
import { mainWindowOptions } from '../main/secure-window.js';
import { type Frame, FakeIpcMain, type SenderEvent, WINDOW_ID, appFrame, fromMainFrame } from './support/fake-ipc-main.js';
import { tempDir } from './support/temp-dir.js';

const PRELOAD = fileURLToPath(new URL('../main/preload.cjs', import.meta.url));

/** Messages that must be refused, each with why. */
function untrustedSenders(): Array<[string, SenderEvent]> {
  const main = appFrame();
  const sub: Frame = { url: 'app://studio/index.html', origin: 'app://studio', parent: main };
  const evil: Frame = { url: 'https://evil.example/', origin: 'https://evil.example', parent: null };
  const file: Frame = { url: 'file:///tmp/index.html', origin: 'file://', parent: null };
  const lookalike: Frame = { url: 'app://studio.evil/index.html', origin: 'app://studio.evil', parent: null };
  const mismatched: Frame = { url: 'app://studio/index.html', origin: 'null', parent: null };
  return [
    ['a subframe of the app page', { sender: { id: WINDOW_ID, mainFrame: main }, senderFrame: sub }],
    ['another origin in the main frame', { sender: { id: WINDOW_ID, mainFrame: evil }, senderFrame: evil }],
    ['a file:// page', { sender: { id: WINDOW_ID, mainFrame: file }, senderFrame: file }],
    ['a look-alike host', { sender: { id: WINDOW_ID, mainFrame: lookalike }, senderFrame: lookalike }],
    ['an opaque origin', { sender: { id: WINDOW_ID, mainFrame: mismatched }, senderFrame: mismatched }],
    ['a destroyed frame', { sender: { id: WINDOW_ID, mainFrame: main }, senderFrame: null }],
    ['another WebContents (e.g. DevTools)', { sender: { id: WINDOW_ID + 1, mainFrame: main }, senderFrame: main }],
  ];
}

/** A registry that counts how often anything reached it (validation included). */
class CountingRegistry extends HandlerRegistry {
  calls = 0;
  override dispatch(channel: string, payload: unknown, context: HandlerContext) {
    this.calls += 1;
    return super.dispatch(channel, payload, context);
  }
}

const fakeDialog: DialogApi = {
  showOpenDialog: (async () => ({ canceled: false, filePaths: ['/chosen/folder'] })) as unknown as DialogApi['showOpenDialog'],
  showSaveDialog: (async () => ({ canceled: true, filePath: '' })) as unknown as DialogApi['showSaveDialog'],
  showMessageBox: (async () => ({ response: 1, checkboxChecked: false })) as unknown as DialogApi['showMessageBox'],
};

/** The services as the desktop sets them up: nothing granted but what `picked` stands for (folders picked in a dialog). */
function desktopBinding(picked: readonly string[] = []) {
  const services = createAppServices({ dialogs: electronDialogs(fakeDialog, () => null), grants: { home: null, roots: picked } });
  const ipc = new FakeIpcMain();
  bindContract(ipc as unknown as IpcMainLike, { registry: services.registry, isAppWindow: (id) => id === WINDOW_ID });
  return { services, ipc };
}

test('every request channel of the contract is bound to ipcMain.handle and served by the desktop registry', async () => {
  const { ipc } = desktopBinding();
  assert.deepEqual([...ipc.handlers.keys()].sort(), Object.keys(requestChannels).sort());
  for (const channel of Object.keys(requestChannels)) {
    // A payload no channel accepts: each answers with a validation error, none with "no service".
    const result = await ipc.invoke(channel, fromMainFrame(), 'not an object');
    assert.equal(result.ok, false, channel);
    assert.equal(!result.ok && result.error.code, 'invalid_input', channel);
  }
  const folder = await ipc.invoke('dialog.pickFolder', fromMainFrame(), {});
  assert.deepEqual(folder, { ok: true, value: { path: '/chosen/folder' } });
  assert.deepEqual(await ipc.invoke('dialog.saveFile', fromMainFrame(), {}), { ok: true, value: { path: null } });
});

test('messages from subframes, other origins and other WebContents are refused before validation', async () => {
  const registry = new CountingRegistry();
  let served = 0;
  registry.register('jobs.list', async () => {
    served += 1;
    return [];
  });
  const ipc = new FakeIpcMain();
  bindContract(ipc as unknown as IpcMainLike, { registry, isAppWindow: (id) => id === WINDOW_ID });

  for (const [why, event] of untrustedSenders()) {
    for (const payload of [{}, 'malformed', { extra: 1 }]) {
      const result = await ipc.invoke('jobs.list', event, payload);
      assert.equal(!result.ok && result.error.code, 'unauthorized', why);
    }
  }
  assert.equal(registry.calls, 0, 'nothing reached the registry, not even validation');
  assert.equal(served, 0);

  const malformed = await ipc.invoke('jobs.list', fromMainFrame(), 'malformed');
  assert.equal(!malformed.ok && malformed.error.code, 'invalid_input');
  assert.deepEqual(await ipc.invoke('jobs.list', fromMainFrame(), {}), { ok: true, value: [] });
  assert.equal(registry.calls, 2);
  assert.equal(served, 1);
});

test('a request is cancelled by its own window only', async () => {
  const registry = new HandlerRegistry();
  registry.register('jobs.list', ({}, { signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
  const ipc = new FakeIpcMain();
  bindContract(ipc as unknown as IpcMainLike, { registry, isAppWindow: (id) => id === WINDOW_ID });
  const pending = ipc.invoke('jobs.list', fromMainFrame(), {}, 'r1');
  const cancel = ipc.listeners.get(CANCEL_CHANNEL)!;
  for (const [, event] of untrustedSenders()) cancel(event, 'r1');
  const early = await Promise.race([pending, new Promise((resolve) => setTimeout(() => resolve('still running'), 50))]);
  assert.equal(early, 'still running');
  cancel(fromMainFrame(), 'r1');
  const result = await pending;
  assert.equal(!result.ok && result.error.code, 'cancelled');
});

test('paths in contract messages cannot reach files outside the project', async (t) => {
  const dir = await tempDir(t);
  await fs.writeFile(path.join(dir, 'secret.txt'), 'secret');
  const { ipc } = desktopBinding([dir]);
  const created = await ipc.invoke('project.create', fromMainFrame(), { path: path.join(dir, 'cells'), classes: ['cell'] });
  assert.ok(created.ok);
  const project = path.join(dir, 'cells');
  for (const id of ['../../secret.txt', '../secret.txt', `${dir}/secret.txt`, '%2e%2e%2fsecret.txt', '..\\..\\secret.txt', 'x\0y']) {
    const result = await ipc.invoke('images.thumbnail', fromMainFrame(), { project, id });
    assert.equal(result.ok, false, id);
    assert.ok(!result.ok && !JSON.stringify(result.error).includes('"secret"'), id);
  }
});

test('host events are forwarded to the window while it exists', () => {
  const events = new EventBus();
  const sent: Array<[string, unknown]> = [];
  let destroyed = false;
  forwardEvents(events, () => ({ isDestroyed: () => destroyed, send: (channel, payload) => sent.push([channel, payload]) }));
  events.emit('menu.command', { command: 'undo' });
  events.emit('project.changed', { project: '/p', reason: 'import' });
  destroyed = true;
  events.emit('menu.command', { command: 'redo' });
  assert.deepEqual(sent, [
    ['menu.command', { command: 'undo' }],
    ['project.changed', { project: '/p', reason: 'import' }],
  ]);
});

/** Runs the compiled preload as Electron's sandbox would, with `require` limited to 'electron'. */
async function runPreload(argv: string[]) {
  const exposed = new Map<string, unknown>();
  const calls: unknown[][] = [];
  const rendererListeners = new Map<string, Set<(...args: unknown[]) => void>>();
  const ipcRenderer = {
    invoke: async (...args: unknown[]) => {
      calls.push(['invoke', ...args]);
      return { ok: true, value: args[0] };
    },
    send: (...args: unknown[]) => calls.push(['send', ...args]),
    on: (channel: string, listener: (...args: unknown[]) => void) => {
      if (!rendererListeners.has(channel)) rendererListeners.set(channel, new Set());
      rendererListeners.get(channel)!.add(listener);
    },
    removeListener: (channel: string, listener: (...args: unknown[]) => void) => rendererListeners.get(channel)?.delete(listener),
  };
  const electron = { contextBridge: { exposeInMainWorld: (name: string, api: unknown) => exposed.set(name, api) }, ipcRenderer };
  const module = { exports: {} };
  const sandbox = {
    require: (name: string) => {
      if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
      return electron;
    },
    module,
    exports: module.exports,
    process: { argv },
  };
  vm.runInNewContext(await fs.readFile(PRELOAD, 'utf8'), sandbox, { filename: PRELOAD });
  return { exposed, calls, rendererListeners, ipcRenderer };
}

test('the preload exposes exactly the contract: one function per request channel, events, cancel', async () => {
  const options = mainWindowOptions({ preload: PRELOAD, preloadArguments: preloadArguments(), bounds: { width: 800, height: 600 } });
  const argv = ['/opt/electron', '--type=renderer', ...options.webPreferences!.additionalArguments!];
  const { exposed, calls, rendererListeners, ipcRenderer } = await runPreload(argv);

  assert.deepEqual([...exposed.keys()], ['unetStudio']);
  const api = exposed.get('unetStudio') as {
    invoke: Record<string, (input: unknown, id: string) => Promise<unknown>>;
    cancel(id: string): void;
    on(event: string, listener: (payload: unknown) => void): () => void;
  };
  assert.deepEqual(Object.keys(api).sort(), ['cancel', 'invoke', 'on']);
  assert.deepEqual(Object.keys(api.invoke).sort(), Object.keys(requestChannels).sort());
  assert.ok(Object.isFrozen(api.invoke));
  for (const value of [api, api.invoke, ...Object.values(api.invoke)]) assert.notEqual(value, ipcRenderer);

  assert.deepEqual(await api.invoke['jobs.list']!({}, 'r1'), { ok: true, value: 'jobs.list' });
  api.cancel('r1');
  assert.deepEqual(calls, [
    ['invoke', 'jobs.list', {}, 'r1'],
    ['send', CANCEL_CHANNEL, 'r1'],
  ]);

  // Every contract event can be subscribed; listeners get the payload, never Electron's event object.
  for (const event of Object.keys(eventChannels)) {
    const received: unknown[] = [];
    const stop = api.on(event, (...args) => received.push(args));
    for (const listener of rendererListeners.get(event)!) listener({ sender: ipcRenderer }, { hello: event });
    assert.deepEqual(received, [[{ hello: event }]]);
    stop();
    assert.equal(rendererListeners.get(event)!.size, 0);
  }
  assert.throws(() => api.on('ipc-internal', () => undefined), /Unknown event/);
});

test('the preload exposes nothing when main passes no channel names, and drops malformed ones', async () => {
  const { exposed } = await runPreload(['/opt/electron', '--unet-request-channels=jobs.list,__proto__,constructor,a b', '--unet-event-channels=']);
  const api = exposed.get('unetStudio') as { invoke: Record<string, unknown> };
  assert.deepEqual(Object.keys(api.invoke), ['jobs.list']);
});
