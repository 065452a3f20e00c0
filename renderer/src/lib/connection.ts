import { ContractClient } from '../../../app/contract/client.js';
import { createWebSocketTransport } from '../../../app/contract/websocket-transport.js';
import { connectDesktopContract, desktopBridge } from '../desktop-connection.js';

/** Where the page runs: served by `unet-studio serve` (browser) or inside the desktop app. */
export type Platform = 'browser' | 'desktop';

export interface Connection {
  client: ContractClient;
  platform: Platform;
  /** The project named in the page address (browser mode), if any. */
  initialProject: string | null;
}

/**
 * Connects to the host: the desktop preload's bridge when present, else a WebSocket back to the
 * `unet-studio serve` host that served this page, presenting the page's access token.
 */
export async function connect(search: string = location.search): Promise<Connection> {
  const bridge = desktopBridge();
  if (bridge) return { client: connectDesktopContract(bridge), platform: 'desktop', initialProject: null };
  const params = new URLSearchParams(search);
  const token = params.get('token');
  if (!token) throw new Error('This page needs the address that `unet-studio serve` printed (it carries an access token).');
  return { client: await connectWebSocket(token), platform: 'browser', initialProject: params.get('project') };
}

/** Resolves once the socket is open, because the transport drops messages sent before that. */
function connectWebSocket(token: string): Promise<ContractClient> {
  const url = new URL('/contract', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = new URLSearchParams({ token }).toString();
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve(new ContractClient(createWebSocketTransport(socket))), { once: true });
    socket.addEventListener('close', () => reject(new Error('Could not connect to the U-Net Studio host. Is `unet-studio serve` still running?')), {
      once: true,
    });
  });
}
