/** Headers on every response: no MIME sniffing, no use of our files by other sites. */
export const COMMON_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
};

/**
 * Headers on the page itself. The CSP allows only our own bundled scripts (Vite emits external
 * module files, no inline script), WebSockets back to this host, and data:/blob: images for the
 * thumbnails. Inline styles stay allowed because Svelte writes `style` attributes (class swatches).
 * The token is in the page URL, hence no referrer and no framing.
 */
export function pageSecurityHeaders(port: number): Record<string, string> {
  const policy = [
    "default-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "img-src 'self' data: blob:",
    "style-src 'self' 'unsafe-inline'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    ...COMMON_SECURITY_HEADERS,
    'Content-Security-Policy': policy,
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-store',
  };
}
