import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type GuardVerdict = { allowed: true } | { allowed: false; status: 401 | 403; reason: string };

const ALLOWED: GuardVerdict = { allowed: true };

/**
 * Decides whether a request may reach the browser host. The host only listens on loopback, but any
 * web page the user visits can still send requests to 127.0.0.1, so each request must prove it
 * comes from our own page: the Host header names us (DNS-rebinding guard), a WebSocket's Origin is
 * our page's origin (cross-site WebSocket hijacking guard), and the request carries the session
 * token: in the URL (the printed link) or in the page's cookie. The page sets the cookie when it is
 * opened with the token and then drops the token from its address, so the token stays out of the
 * browser history while reload, Back/Forward and links to a place in the studio keep working.
 * The cookie is HttpOnly (page scripts never see it), SameSite=Strict (other sites' requests do
 * not carry it) and named per port (cookies do not separate ports).
 */
export class RequestGuard {
  private readonly ownAuthorities: ReadonlySet<string>;
  private readonly ownOrigins: ReadonlySet<string>;
  private readonly tokenDigest: Buffer;
  private readonly cookieName: string;

  constructor(
    private readonly token: string,
    port: number,
  ) {
    this.cookieName = `unet-studio-${port}`;
    this.ownAuthorities = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
    this.ownOrigins = new Set([...this.ownAuthorities].map((authority) => `http://${authority}`));
    this.tokenDigest = digest(token);
  }

  checkHost(request: IncomingMessage): GuardVerdict {
    const host = request.headers.host?.toLowerCase();
    if (host && this.ownAuthorities.has(host)) return ALLOWED;
    return { allowed: false, status: 403, reason: 'This host only answers requests addressed to 127.0.0.1.' };
  }

  checkOrigin(request: IncomingMessage): GuardVerdict {
    const origin = request.headers.origin?.toLowerCase();
    if (origin && this.ownOrigins.has(origin)) return ALLOWED;
    return { allowed: false, status: 403, reason: 'Connections are only accepted from the U-Net Studio page.' };
  }

  checkToken(url: URL, request: IncomingMessage): GuardVerdict {
    if (this.matches(url.searchParams.get('token')) || this.matches(this.cookieToken(request))) return ALLOWED;
    return { allowed: false, status: 401, reason: 'Missing or wrong access token; open the URL the host printed.' };
  }

  /** Whether the URL itself carries the right token (the printed link): then the page sets the cookie. */
  urlHasToken(url: URL): boolean {
    return this.matches(url.searchParams.get('token'));
  }

  /** The Set-Cookie value that lets this browser back in without the token in the address. */
  sessionCookie(): string {
    return `${this.cookieName}=${this.token}; Path=/; HttpOnly; SameSite=Strict`;
  }

  private cookieToken(request: IncomingMessage): string | null {
    for (const part of (request.headers.cookie ?? '').split(';')) {
      const [name, value] = part.trim().split('=', 2);
      if (name === this.cookieName && value !== undefined) return value;
    }
    return null;
  }

  private matches(candidate: string | null): boolean {
    // Digests have equal length, so timingSafeEqual never throws and the comparison leaks nothing about length.
    return candidate !== null && timingSafeEqual(digest(candidate), this.tokenDigest);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
