import { COMMON_SECURITY_HEADERS } from '../app/host/security-headers.js';

/**
 * The desktop page's Content-Security-Policy: only the app's own bundled scripts and styles (no
 * inline script, no eval), images from the app and data:/blob: (thumbnails, canvases), no network,
 * no frames, no plugins, no forms, no <base>. 'self' is app://studio.
 */
export const DESKTOP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Svelte writes `style` attributes (class swatches), hence inline styles only.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every app:// response; the CSP goes on all of them (not only HTML) so no document escapes it. */
export const DESKTOP_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  ...COMMON_SECURITY_HEADERS,
  'Content-Security-Policy': DESKTOP_CSP,
  'Cache-Control': 'no-store',
};
