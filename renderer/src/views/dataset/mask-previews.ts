import type { ContractClient } from '../../../../app/contract/client.js';
import type { ClassDef } from '../../../../app/contract/schemas.js';
import { base64ToBytes, inflate } from '../../lib/bytes.js';
import type { PreviewSource } from '../../lib/thumbnails.js';
import { labelColourTable } from '../editor/label-colours.js';

/**
 * Mask previews for the grid: the host sends the mask's labels at thumbnail size (masks.thumbnail,
 * cached there), coloured here with the editor's own colour table, so they look as in the editor.
 */
export function maskPreviews(client: ContractClient, project: string, classes: readonly ClassDef[]): PreviewSource {
  const colours = labelColourTable(classes);
  return async (id, signal) => {
    const answer = await client.invoke('masks.thumbnail', { project, id }, { signal });
    if (!answer.ok) throw new Error(answer.error.message);
    const { exists, width, height, base64 } = answer.value;
    if (!exists) return null;
    const labels = await inflate(base64ToBytes(base64));
    const pixels = new Uint32Array(width * height);
    for (let index = 0; index < pixels.length; index++) pixels[index] = colours[labels[index]!]!;
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(pixels.buffer), width, height), 0, 0);
    return canvas.convertToBlob({ type: 'image/png' });
  };
}
