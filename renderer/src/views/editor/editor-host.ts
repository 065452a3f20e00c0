import type { ContractClient } from '../../../../app/contract/client.js';
import { isScribbleImage, unpaintedLabel } from '../../../../app/contract/scribble.js';
import type { EditorHost } from '../../../../app/editor/editor-session.js';
import { TiledLabelMap } from '../../../../app/editor/tiled-label-map.js';
import { base64ToBlob } from '../../lib/bytes.js';
import type { Session } from '../../lib/session.svelte.js';
import { decodeLabelMap, saveTiles } from './label-transfer.js';

/**
 * The editor session's host in the studio: images, masks and predictions come over the contract
 * (cancelled with the load), pictures are ImageBitmaps, saves patch the stored mask.
 */
export function studioEditorHost(client: ContractClient, session: Session, project: string): EditorHost<ImageBitmap> {
  return {
    async load(id, signal) {
      const entry = session.images.find((image) => image.id === id);
      if (!entry) throw new Error(`Image "${id}" is no longer in this project.`);
      const [display, mask, prediction] = await Promise.all([
        client.invoke('images.display', { project, id }, { signal }),
        client.invoke('masks.get', { project, id }, { signal }),
        client.invoke('predictions.get', { project, id }, { signal }),
      ]);
      if (!display.ok) throw new Error(display.error.message);
      if (!mask.ok) throw new Error(mask.error.message);
      const picture = await createImageBitmap(base64ToBlob(display.value.base64, display.value.mime)).catch((err: unknown) => {
        throw new Error(`${entry.originalName} could not be shown: the browser cannot decode its display image (${err instanceof Error ? err.message : String(err)}).`);
      });
      try {
        return {
          id,
          name: entry.originalName,
          width: entry.width,
          height: entry.height,
          picture,
          // A new mask starts unpainted: background, or unlabelled (255) in scribble mode.
          mask: (await decodeLabelMap(mask.value)) ?? new TiledLabelMap(entry.width, entry.height, unpaintedLabel(isScribbleImage(session.project!.settings, entry))),
          // A missing or unreadable prediction only leaves the accept tool off.
          prediction: prediction.ok ? await decodeLabelMap(prediction.value) : null,
        };
      } catch (err) {
        picture.close();
        throw err;
      }
    },
    release: (picture) => picture.close(),
    async save(id, map, tiles) {
      const saved = await saveTiles(client, project, id, map, tiles);
      if (saved) session.updateImage(saved);
    },
    left: () => void session.refresh(),
  };
}
