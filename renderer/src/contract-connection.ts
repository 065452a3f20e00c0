import { ContractClient } from '../../app/contract/client.js';
import { createWebSocketTransport } from '../../app/contract/websocket-transport.js';

/** What the browser host put in the page URL: the access token and the project to open. */
export interface PageParameters {
  token: string | null;
  project: string | null;
}

export function readPageParameters(search: string = location.search): PageParameters {
  const params = new URLSearchParams(search);
  return { token: params.get('token'), project: params.get('project') };
}

/**
 * Opens the contract WebSocket back to the host that served this page, presenting the page's token.
 * Resolves once the socket is open, because the transport drops messages sent before that.
 */
export function connectContract(token: string): Promise<ContractClient> {
  const url = new URL('/contract', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = new URLSearchParams({ token }).toString();
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve(new ContractClient(createWebSocketTransport(socket))), {
      once: true,
    });
    socket.addEventListener(
      'close',
      () => reject(new Error('Could not connect to the U-Net Studio host. Is `unet-studio serve` still running?')),
      { once: true },
    );
  });
}
