import { mapFromSnapshot, runRegionInSteps } from '../../../../app/editor/region-runner.js';
import type { EditWorkerReply, EditWorkerRequest } from './edit-worker-protocol.js';

/**
 * The edit worker: computes fills on its own copy of the mask, step by step, posting each step's
 * tiles (transferred, not copied) so the page draws them while the fill goes on, then the undo step.
 */
const scope = self as unknown as { onmessage: ((event: MessageEvent<EditWorkerRequest>) => void) | null; postMessage(reply: EditWorkerReply, transfer: Transferable[]): void };
const cancelled = new Set<number>();

scope.onmessage = ({ data: message }) => {
  if (message.kind === 'cancel') cancelled.add(message.id);
  else void run(message);
};

async function run({ id, snapshot, request }: Extract<EditWorkerRequest, { kind: 'run' }>): Promise<void> {
  try {
    const map = mapFromSnapshot(snapshot);
    const patch = await runRegionInSteps(map, request, {
      tiles: (tiles, pixels) => scope.postMessage({ kind: 'tiles', id, tiles, pixels }, buffersOf(tiles.map((tile) => tile.data))),
      // A macrotask between steps lets a cancel message in.
      pause: () => new Promise((resolve) => setTimeout(resolve, 0)),
      cancelled: () => cancelled.has(id),
    });
    const buffers = patch ? buffersOf(patch.tiles.flatMap((tile) => [tile.before, tile.after])) : [];
    scope.postMessage({ kind: 'done', id, patch }, buffers);
  } catch (err) {
    scope.postMessage({ kind: 'failed', id, error: err instanceof Error ? err.message : String(err) }, []);
  } finally {
    cancelled.delete(id);
  }
}

function buffersOf(arrays: Array<Uint8Array | null>): Transferable[] {
  return arrays.filter((array): array is Uint8Array => array !== null).map((array) => array.buffer as ArrayBuffer);
}
