import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type GuardVerdict = { allowed: true } | { allowed: false; status: 401 | 403; reason: string };

const ALLOWED: GuardVerdict = { allowed: true };

/**
 * Decides whether a request may reach the browser host. The host only listens on loopback, but any
 * web page the user visits can still send requests to 127.0.0.1, so each request must prove it
 * comes from our own page: the Host header names us (DNS-rebinding guard), a WebSocket's Origin is
 * our page's origin (cross-site WebSocket hijacking guard), and the URL carries the session token.
 */
export class RequestGuard {
  private readonly ownAuthorities: ReadonlySet<string>;
  private readonly ownOrigins: ReadonlySet<string>;
  private readonly tokenDigest: Buffer;

  constructor(token: string, port: number) {
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

  checkToken(url: URL): GuardVerdict {
    const candidate = url.searchParams.get('token');
    // Digests have equal length, so timingSafeEqual never throws and the comparison leaks nothing about length.
    if (candidate !== null && timingSafeEqual(digest(candidate), this.tokenDigest)) return ALLOWED;
    return { allowed: false, status: 401, reason: 'Missing or wrong access token; open the URL the host printed.' };
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
