import type { Session } from 'electron';
import { APP_SCHEME } from './app-origin.js';

/** The parts of Session the policy sets (a stand-in in tests). */
export interface PolicySession {
  setPermissionRequestHandler: Session['setPermissionRequestHandler'];
  setPermissionCheckHandler: Session['setPermissionCheckHandler'];
  webRequest: { onBeforeRequest(listener: (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void): void };
  on(event: 'will-download', listener: (event: { preventDefault(): void }) => void): unknown;
}

/** Schemes the page may load from: the app itself, inline data and its own blobs, and DevTools. */
const ALLOWED_SCHEMES = new Set([`${APP_SCHEME}:`, 'data:', 'blob:', 'devtools:']);

export function isAllowedRequest(url: string): boolean {
  try {
    return ALLOWED_SCHEMES.has(new URL(url).protocol);
  } catch {
    return false;
  }
}

/**
 * The session behind the studio window: every permission (camera, notifications, geolocation,
 * clipboard-read, HID, serial, …) is refused, both when requested and when checked; nothing is
 * fetched from the network or file:// (the app needs neither); downloads are cancelled.
 */
export function hardenSession(session: PolicySession): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedRequest(details.url) }));
  session.on('will-download', (event) => event.preventDefault());
}
