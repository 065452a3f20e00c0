import { APP_ORIGIN, isAppUrl } from './app-origin.js';

/** What an IPC event says about who sent it; Electron's IpcMainEvent and IpcMainInvokeEvent have these. */
export interface IpcSender {
  sender: { readonly id: number; readonly mainFrame: unknown };
  readonly senderFrame: { readonly url: string; readonly origin: string; readonly parent: unknown } | null;
}

/**
 * Accepts a message only from the top-level frame of one of the app's own windows showing an
 * app://studio page. Subframes (an injected iframe), other origins (a page that navigated away
 * despite the guards), destroyed frames and other WebContents (DevTools, future windows) are refused.
 */
export function isTrustedSender(event: IpcSender, isAppWindow: (webContentsId: number) => boolean): boolean {
  const frame = event.senderFrame;
  if (!frame || frame !== event.sender.mainFrame || frame.parent !== null) return false;
  if (!isAppWindow(event.sender.id)) return false;
  return frame.origin === APP_ORIGIN && isAppUrl(frame.url);
}
