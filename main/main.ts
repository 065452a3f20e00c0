// Entry of the Electron main process. It wires the secure window, the app:// protocol, the contract
// over IPC, native dialogs and menus, and the worker utility processes together; every piece lives in
// its own module (and is tested there), this file only connects them to Electron's objects. Channel
// handlers live in app/services; heavy work runs in utility processes.
import './before-ready.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, Menu, app, dialog, ipcMain, protocol, screen, session, shell, utilityProcess } from 'electron';
import { createAppServices } from '../app/services/app-services.js';
import { buildMenuTemplate } from './app-menu.js';
import { APP_PAGE_URL, APP_SCHEME } from './app-origin.js';
import { createAppProtocolHandler } from './app-protocol.js';
import { SMOKE_TEST_FLAG, projectFromArgv } from './command-line.js';
import { electronDialogs } from './dialogs.js';
import { isSafeExternalUrl } from './external-links.js';
import { bindContract, forwardEvents } from './ipc-binding.js';
import { PageConnections } from './page-connections.js';
import { preloadArguments } from './preload-arguments.js';
import { openMainWindow } from './secure-window.js';
import { hardenSession } from './session-policy.js';
import { cancelJobsAndWait } from './shutdown.js';
import { runSmokeTest } from './smoke-test.js';
import { utilityWorkerLauncher } from './utility-worker.js';
import { type WindowBounds, placeOnDisplays, windowStateFile } from './window-state.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RENDERER_DIR = path.join(HERE, '..', 'renderer');
const PRELOAD = path.join(HERE, 'preload.cjs');
const ICON = path.join(HERE, '..', '..', 'resources', 'icon.png');
/** How long quitting waits for cancelled jobs (a trainer finishes its step and keeps its checkpoint). */
const QUIT_WAIT_MS = 10_000;

if (process.argv.includes(SMOKE_TEST_FLAG)) {
  void smokeTest();
} else if (!app.requestSingleInstanceLock()) {
  // Another U-Net Studio is running; it receives our command line through `second-instance`.
  app.quit();
} else {
  startStudio().catch((err: unknown) => {
    dialog.showErrorBox('U-Net Studio could not start', err instanceof Error ? err.message : String(err));
    app.exit(1);
  });
}

/** `--smoke-test`: load the native parts, segment one image, print the result, exit (used by CI on packaged apps). */
async function smokeTest(): Promise<void> {
  await app.whenReady();
  try {
    console.log(JSON.stringify({ smokeTest: 'ok', ...(await runSmokeTest()) }));
    app.exit(0);
  } catch (err) {
    console.error('Smoke test failed:', err);
    app.exit(1);
  }
}

async function startStudio(): Promise<void> {
  let window: BrowserWindow | null = null;
  let lastBounds: WindowBounds | null = null;
  const openExternal = (url: string) => {
    if (isSafeExternalUrl(url)) void shell.openExternal(url);
  };

  // Every WebContents (DevTools included) gets no webviews and no popups, whatever created it.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  await app.whenReady();
  const userData = app.getPath('userData');
  // No folder is granted up front: the page gets what the user picks or confirms in native dialogs, and open projects.
  const services = createAppServices({
    launchWorker: utilityWorkerLauncher(utilityProcess.fork),
    settingsDir: userData,
    dialogs: electronDialogs(dialog, () => window),
    grants: { home: null },
  });
  const windowState = windowStateFile(userData);

  const requestOpen = (projectPath: string) => {
    services.events.emit('project.openRequested', { path: projectPath });
    window?.show();
    window?.focus();
  };
  const refreshMenu = async () => {
    const recent = (await services.recent.list()).map((entry) => entry.path);
    const template = buildMenuTemplate(
      {
        command: (command) => services.events.emit('menu.command', { command }),
        openProject: () => {
          const options = { title: 'Open Project', properties: ['openDirectory' as const] };
          void (window ? dialog.showOpenDialog(window, options) : dialog.showOpenDialog(options)).then((result) => {
            if (!result.canceled && result.filePaths[0]) requestOpen(result.filePaths[0]);
          });
        },
        openRecent: requestOpen,
        clearRecent: () => void services.recent.clear(),
      },
      recent,
      process.platform === 'darwin',
    );
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  };

  hardenSession(session.defaultSession);
  protocol.handle(APP_SCHEME, await createAppProtocolHandler({ rendererDir: RENDERER_DIR }));
  const pages = new PageConnections();
  bindContract(ipcMain, {
    registry: services.registry,
    isAppWindow: (id) => window !== null && !window.isDestroyed() && window.webContents.id === id,
    connection: (id) => pages.signal(id),
  });
  forwardEvents(services.events, () => (window && !window.isDestroyed() ? window.webContents : null));
  // Opening a project anywhere (start page, menu, command line) changes the one recent list.
  services.recent.onChange(() => void refreshMenu());
  await refreshMenu();

  const saved = placeOnDisplays(await windowState.read(), screen.getAllDisplays().map((display) => display.workArea));
  const startProject = projectFromArgv(process.argv, { isPackaged: app.isPackaged, cwd: process.cwd() });
  const pageUrl = new URL(APP_PAGE_URL);
  if (startProject) pageUrl.searchParams.set('project', startProject);
  window = openMainWindow(BrowserWindow, {
    url: pageUrl.href,
    preload: PRELOAD,
    preloadArguments: preloadArguments(),
    bounds: saved,
    icon: ICON,
    openExternal,
  });
  pages.watch(window.webContents);
  if (saved.maximized) window.maximize();
  window.on('close', () => {
    if (window) lastBounds = { ...window.getNormalBounds(), maximized: window.isMaximized() };
  });
  window.on('closed', () => {
    window = null;
  });

  app.on('second-instance', (_event, argv, workingDirectory) => {
    if (window?.isMinimized()) window.restore();
    window?.focus();
    const project = projectFromArgv(argv, { isPackaged: app.isPackaged, cwd: workingDirectory });
    if (project) requestOpen(project);
  });
  app.on('window-all-closed', () => app.quit());

  // Quitting cancels running jobs and waits briefly for them, then saves the window's bounds.
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    if (window && !window.isDestroyed()) lastBounds = { ...window.getNormalBounds(), maximized: window.isMaximized() };
    void cancelJobsAndWait(services.jobs, services.events, QUIT_WAIT_MS)
      .then(() => (lastBounds ? windowState.write(lastBounds) : undefined))
      .catch((err: unknown) => console.error('While quitting:', err))
      .finally(() => app.quit());
  });
}
