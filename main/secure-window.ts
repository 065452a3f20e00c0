import type { BrowserWindow, BrowserWindowConstructorOptions, HandlerDetails, WebContents, WebPreferences, WindowOpenHandlerResponse } from 'electron';
import { isSafeExternalUrl } from './external-links.js';

/**
 * The renderer's privileges, all of them: an isolated, sandboxed page without Node, web security
 * on, no insecure content, no experimental or extra Blink features, no <webview>. The preload gets
 * the contract's channel names through `additionalArguments` (a sandboxed preload cannot import).
 */
export function secureWebPreferences(preload: string, preloadArguments: string[]): WebPreferences {
  return {
    preload,
    additionalArguments: preloadArguments,
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
  };
}

export interface MainWindowOptions {
  preload: string;
  preloadArguments: string[];
  bounds: { x?: number; y?: number; width: number; height: number };
  icon?: string;
}

export function mainWindowOptions(options: MainWindowOptions): BrowserWindowConstructorOptions {
  return {
    ...options.bounds,
    minWidth: 800,
    minHeight: 560,
    title: 'U-Net Studio',
    show: false,
    backgroundColor: '#1d2733',
    ...(options.icon ? { icon: options.icon } : {}),
    webPreferences: secureWebPreferences(options.preload, options.preloadArguments),
  };
}

/** The parts of WebContents the guards use (a stand-in in tests: the Electron runtime is absent there). */
export type GuardedContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/**
 * The page may not navigate anywhere, open windows or attach webviews. An https link the user
 * clicks (window.open or target=_blank) goes to the system browser instead; everything else is dropped.
 */
export function guardWebContents(contents: GuardedContents, openExternal: (url: string) => void): void {
  const denyNavigation = (event: { preventDefault(): void }, url: string) => {
    event.preventDefault();
    if (isSafeExternalUrl(url)) openExternal(url);
  };
  contents.on('will-navigate', denyNavigation);
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler((details: HandlerDetails): WindowOpenHandlerResponse => {
    if (isSafeExternalUrl(details.url)) openExternal(details.url);
    return { action: 'deny' };
  });
}

export type WindowConstructor = new (options: BrowserWindowConstructorOptions) => BrowserWindow;

/** Creates the studio window with the secure preferences and guards, and loads the page URL. */
export function openMainWindow(Window: WindowConstructor, options: MainWindowOptions & { url: string; openExternal(url: string): void }): BrowserWindow {
  const window = new Window(mainWindowOptions(options));
  guardWebContents(window.webContents, options.openExternal);
  window.once('ready-to-show', () => window.show());
  void window.loadURL(options.url);
  return window;
}
