// The studio window, its session and the desktop integration pieces (menu, window bounds, command
// line, quitting; recent projects are the services', see project-settings.test.ts). Electron's
// objects are stand-ins: its runtime is absent here.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { MenuItemConstructorOptions } from 'electron';
import { MenuCommand } from '../app/contract/channels.js';
import { EventBus } from '../app/contract/event-bus.js';
import { JobManager } from '../app/jobs/job-manager.js';
import { buildMenuTemplate } from '../main/app-menu.js';
import { projectFromArgv } from '../main/command-line.js';
import { preloadArguments } from '../main/preload-arguments.js';
import { openMainWindow, type WindowConstructor } from '../main/secure-window.js';
import { hardenSession, type PolicySession } from '../main/session-policy.js';
import { cancelJobsAndWait } from '../main/shutdown.js';
import { DEFAULT_BOUNDS, placeOnDisplays, windowStateFile } from '../main/window-state.js';
import { tempDir } from './support/temp-dir.js';

type Handler = (...args: unknown[]) => unknown;

function preventable() {
  let prevented = false;
  return { preventDefault: () => (prevented = true), get prevented() { return prevented; } };
}

function fakeWindowClass() {
  const created: Array<{ options: Record<string, unknown>; handlers: Map<string, Handler>; loaded: string[]; openHandler?: Handler }> = [];
  class FakeWindow {
    readonly record;
    readonly webContents;
    constructor(options: Record<string, unknown>) {
      const record = { options, handlers: new Map<string, Handler>(), loaded: [] as string[] } as (typeof created)[number];
      created.push(record);
      this.record = record;
      this.webContents = {
        on: (event: string, handler: Handler) => record.handlers.set(event, handler),
        setWindowOpenHandler: (handler: Handler) => (record.openHandler = handler),
      };
    }
    once() {}
    async loadURL(url: string) {
      this.record.loaded.push(url);
    }
  }
  return { Window: FakeWindow as unknown as WindowConstructor, created };
}

test('the window is created with exactly the secure webPreferences and loads the app origin', () => {
  const { Window, created } = fakeWindowClass();
  openMainWindow(Window, { url: 'app://studio/index.html', preload: '/app/dist/main/preload.cjs', preloadArguments: preloadArguments(), bounds: { width: 900, height: 700 }, openExternal: () => undefined });
  const [window] = created;
  assert.deepEqual(window!.options.webPreferences, {
    preload: '/app/dist/main/preload.cjs',
    additionalArguments: preloadArguments(),
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  });
  assert.deepEqual(window!.loaded, ['app://studio/index.html']);
});

test('navigation, redirects, webviews and new windows are denied; only https links go to the system browser', () => {
  const { Window, created } = fakeWindowClass();
  const external: string[] = [];
  openMainWindow(Window, { url: 'app://studio/index.html', preload: 'p', preloadArguments: [], bounds: { width: 900, height: 700 }, openExternal: (url) => external.push(url) });
  const window = created[0]!;
  const urls = ['https://example.org/docs', 'http://example.org/', 'file:///etc/passwd', 'app://studio/other.html', 'javascript:alert(1)', 'https://user:pw@example.org/', 'smb://host/share'];
  for (const url of urls) {
    const event = preventable();
    window.handlers.get('will-navigate')!(event, url);
    assert.ok(event.prevented, url);
    assert.deepEqual(window.openHandler!({ url }), { action: 'deny' }, url);
  }
  for (const name of ['will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
    const event = preventable();
    window.handlers.get(name)!(event, 'https://example.org/');
    assert.ok(event.prevented, name);
  }
  assert.deepEqual(external, ['https://example.org/docs', 'https://example.org/docs']);
});

test('the session refuses every permission, every network or file request and downloads', () => {
  let requestHandler: Handler | null = null;
  let checkHandler: Handler | null = null;
  let beforeRequest: Handler | null = null;
  let download: Handler | null = null;
  const session = {
    setPermissionRequestHandler: (handler: Handler) => (requestHandler = handler),
    setPermissionCheckHandler: (handler: Handler) => (checkHandler = handler),
    webRequest: { onBeforeRequest: (handler: Handler) => (beforeRequest = handler) },
    on: (_event: string, handler: Handler) => (download = handler),
  };
  hardenSession(session as unknown as PolicySession);
  for (const permission of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal', 'fullscreen', 'hid']) {
    let granted: boolean | null = null;
    requestHandler!({}, permission, (answer: boolean) => (granted = answer), {});
    assert.equal(granted, false, permission);
    assert.equal(checkHandler!({}, permission, 'app://studio', {}), false, permission);
  }
  const verdicts = new Map<string, boolean>();
  for (const url of ['app://studio/index.html', 'data:image/png;base64,AA', 'blob:app://studio/1', 'https://example.org/', 'http://127.0.0.1:8080/', 'file:///etc/passwd', 'ws://localhost/']) {
    beforeRequest!({ url }, (response: { cancel: boolean }) => verdicts.set(url, response.cancel));
  }
  assert.deepEqual(Object.fromEntries(verdicts), {
    'app://studio/index.html': false,
    'data:image/png;base64,AA': false,
    'blob:app://studio/1': false,
    'https://example.org/': true,
    'http://127.0.0.1:8080/': true,
    'file:///etc/passwd': true,
    'ws://localhost/': true,
  });
  const event = preventable();
  download!(event);
  assert.ok(event.prevented);
});

test('the application menu sends every editor command with its shortcut', () => {
  const sent: string[] = [];
  const opened: string[] = [];
  const template = buildMenuTemplate({ command: (command) => sent.push(command), openProject: () => opened.push('dialog'), openRecent: (p) => opened.push(p), clearRecent: () => undefined }, ['/data/cells'], false);
  const items: MenuItemConstructorOptions[] = [];
  const walk = (list: MenuItemConstructorOptions[]) => list.forEach((item) => (items.push(item), Array.isArray(item.submenu) && walk(item.submenu)));
  walk(template);
  const byLabel = new Map(items.filter((item) => item.label).map((item) => [item.label!, item]));
  assert.equal(byLabel.get('Undo')!.accelerator, 'CmdOrCtrl+Z');
  assert.equal(byLabel.get('Redo')!.accelerator, 'CmdOrCtrl+Shift+Z');
  assert.equal(byLabel.get('Zoom to Fit')!.accelerator, 'CmdOrCtrl+0');
  assert.equal(byLabel.get('Actual Size (1:1)')!.accelerator, 'CmdOrCtrl+1');
  assert.equal(byLabel.get('Brush')!.registerAccelerator, false, 'single keys stay typeable in text fields');
  for (const item of items) if (item.click && item.label !== 'Open Project…' && item.label !== '/data/cells') (item.click as () => void)();
  assert.deepEqual([...sent].sort(), [...MenuCommand.options].sort());
  (byLabel.get('/data/cells')!.click as () => void)();
  (byLabel.get('Open Project…')!.click as () => void)();
  assert.deepEqual(opened, ['/data/cells', 'dialog']);
});

test('window bounds are remembered, and a position off every display is dropped', async (t) => {
  const dir = await tempDir(t);
  const state = windowStateFile(dir);
  assert.deepEqual(await state.read(), DEFAULT_BOUNDS);
  await state.write({ x: 100, y: 80, width: 1000, height: 700, maximized: true });
  assert.deepEqual(await state.read(), { x: 100, y: 80, width: 1000, height: 700, maximized: true });
  const display = [{ x: 0, y: 0, width: 1920, height: 1080 }];
  assert.deepEqual(placeOnDisplays({ x: 100, y: 80, width: 1000, height: 700, maximized: false }, display), { x: 100, y: 80, width: 1000, height: 700, maximized: false });
  assert.deepEqual(placeOnDisplays({ x: 3000, y: 80, width: 1000, height: 700, maximized: false }, display), { width: 1000, height: 700, maximized: false });
});

test('a project folder on the command line is found, for the first and for a second instance', () => {
  assert.equal(projectFromArgv(['/opt/U-Net Studio/unet-studio', '/data/cells'], { isPackaged: true, cwd: '/home/a' }), '/data/cells');
  assert.equal(projectFromArgv(['/opt/electron', '.', '--inspect', 'cells'], { isPackaged: false, cwd: '/home/a' }), '/home/a/cells');
  assert.equal(projectFromArgv(['/opt/U-Net Studio/unet-studio', '--smoke-test'], { isPackaged: true, cwd: '/home/a' }), null);
  assert.equal(projectFromArgv(['/opt/electron', '.'], { isPackaged: false, cwd: '/home/a' }), null);
});

test('quitting cancels running jobs and waits for them to finish their last write', async (t) => {
  const dir = await tempDir(t);
  const events = new EventBus();
  const jobs = new JobManager(events);
  const checkpoint = path.join(dir, 'checkpoint.json');
  jobs.start('train', 'cooperative', ({ signal }) =>
    new Promise((_resolve, reject) =>
      signal.addEventListener('abort', () => setTimeout(() => void fs.writeFile(checkpoint, '{}').then(() => reject(signal.reason)), 50)),
    ),
  );
  assert.equal(await cancelJobsAndWait(jobs, events, 5000), 0);
  assert.equal(await fs.readFile(checkpoint, 'utf8'), '{}');
  assert.deepEqual(jobs.list().map((job) => job.state), ['cancelled']);

  let release = () => {};
  jobs.start('train', 'stuck', () => new Promise((_resolve, reject) => (release = () => reject(new Error('released')))));
  assert.equal(await cancelJobsAndWait(jobs, events, 50), 1, 'gives up after the timeout');
  release();
});
