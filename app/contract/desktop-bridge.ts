/**
 * What the desktop preload (main/preload.cts) exposes as `window.unetStudio`: one function per
 * request channel of the contract, per-request cancellation and event subscription. Nothing else
 * of Electron reaches the page. Defined here, beside the contract it carries, so main/ and the
 * renderer both import it from the contract.
 */
export interface DesktopBridge {
  invoke: Record<string, (input: unknown, requestId: string) => Promise<unknown>>;
  cancel(requestId: string): void;
  on(event: string, listener: (payload: unknown) => void): () => void;
}
