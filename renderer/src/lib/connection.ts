import { ContractClient } from '../../../app/contract/client.js';
import { createWebSocketTransport } from '../../../app/contract/websocket-transport.js';
import { connectDesktopContract, desktopBridge } from '../desktop-connection.js';
import { placeHash } from './place.js';

/** Where the page runs: served by `unet-studio serve` (browser) or inside the desktop app. */
export type Platform = 'browser' | 'desktop';

export interface Connection {
  client: ContractClient;
  platform: Platform;
  /** Calls `listener` when the host hangs up (browser mode: the host stopped or restarted). */
  onLost(listener: () => void): void;
}

/**
 * Connects to the host: the desktop preload's bridge when present, else a WebSocket back to the
 * `unet-studio serve` host that served this page. The host gave this page a cookie with its access
 * token when it served it (see RequestGuard), and the socket presents that cookie, so the token
 * can leave the address: it is replaced by the place (a project named by `serve <project>`).
 */
export async function connect(): Promise<Connection> {
  const bridge = desktopBridge();
  // The desktop's preload lives as long as the window: its connection is never lost.
  if (bridge) return { client: connectDesktopContract(bridge), platform: 'desktop', onLost: () => undefined };
  dropTokenFromAddress();
  const socket = await openWebSocket();
  return {
    client: new ContractClient(createWebSocketTransport(socket)),
    platform: 'browser',
    onLost: (listener) => socket.addEventListener('close', listener, { once: true }),
  };
}

function dropTokenFromAddress(): void {
  const params = new URLSearchParams(location.search);
  if (!params.has('token') && !params.has('project')) return;
  const project = params.get('project');
  const hash = location.hash || (project ? placeHash({ project, view: 'dataset', image: null }) : '');
  history.replaceState(null, '', `${location.pathname}${hash}`);
}

/**
 * Whether the host that served this page still admits it: 'same' (the host is back, or never left,
 * with the token this page's cookie holds), 'new-token' (a restarted host: it needs its new link),
 * or 'unreachable'.
 */
export async function probeHost(): Promise<'same' | 'new-token' | 'unreachable'> {
  try {
    const response = await fetch(location.pathname, { method: 'HEAD', cache: 'no-store' });
    return response.ok ? 'same' : response.status === 401 ? 'new-token' : 'unreachable';
  } catch {
    return 'unreachable';
  }
}

/** Resolves once the socket is open, because the transport drops messages sent before that. */
function openWebSocket(): Promise<WebSocket> {
  const url = new URL('/contract', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  url.hash = '';
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve(socket), { once: true });
    socket.addEventListener('close', () => reject(new Error('Could not connect to the U-Net Studio host. Is `unet-studio serve` still running?')), {
      once: true,
    });
  });
}
