import type { ContractClient } from '../../../../app/contract/client.js';
import type { ImageEntry } from '../../../../app/contract/schemas.js';
import type { LabelMapPayload, TilePatch } from '../../../../app/contract/studio.js';
import { TiledLabelMap } from '../../../../app/editor/tiled-label-map.js';
import { tilePatches } from '../../../../app/editor/tile-patches.js';
import { base64ToBytes, bytesToBase64, deflate, inflate } from '../../lib/bytes.js';

/** Keeps each masks.patch message well under the host's 16 MiB message limit. */
const MAX_REQUEST_CHARS = 4 * 1024 * 1024;

/** A label map from the host (mask or prediction) as tiles; null when none is stored. */
export async function decodeLabelMap(payload: LabelMapPayload): Promise<TiledLabelMap | null> {
  if (!payload.exists) return null;
  const bytes = base64ToBytes(payload.base64);
  const labels = payload.encoding === 'deflate' ? await inflate(bytes) : bytes;
  return TiledLabelMap.fromLabels(payload.width, payload.height, labels);
}

/**
 * Sends the given tiles to the host (deflated, in as few requests as the size limit allows);
 * resolves with the image's updated entry (its status becomes labelled).
 */
export async function saveTiles(client: ContractClient, project: string, id: string, map: TiledLabelMap, tiles: number[]): Promise<ImageEntry | null> {
  let entry: ImageEntry | null = null;
  const patches: TilePatch[] = [];
  for (const patch of tilePatches(map, tiles)) {
    const packed = await deflate(patch.labels);
    patches.push({ x: patch.x, y: patch.y, width: patch.width, height: patch.height, encoding: 'deflate', labelsBase64: bytesToBase64(packed) });
  }
  let batch: TilePatch[] = [];
  let size = 0;
  const send = async () => {
    if (batch.length === 0) return;
    const answer = await client.invoke('masks.patch', { project, id, tiles: batch });
    if (!answer.ok) throw new Error(answer.error.message);
    entry = answer.value.image;
    batch = [];
    size = 0;
  };
  for (const patch of patches) {
    if (size + patch.labelsBase64.length > MAX_REQUEST_CHARS) await send();
    batch.push(patch);
    size += patch.labelsBase64.length;
  }
  await send();
  return entry;
}
