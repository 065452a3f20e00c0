import type { ContractClient } from '../../../../app/contract/client.js';
import { isScribbleImage, unpaintedLabel } from '../../../../app/contract/scribble.js';
import type { EditorHost } from '../../../../app/editor/editor-session.js';
import { TiledLabelMap } from '../../../../app/editor/tiled-label-map.js';
import type { Session } from '../../lib/session.svelte.js';
import { decodeLabelMap, saveTiles } from './label-transfer.js';
import { ProgressivePictures, type StudioPicture } from './progressive-picture.js';
import type { WorkProgress } from './work-progress.svelte.js';

/**
 * The editor session's host in the studio: images, masks and predictions come over the contract
 * (cancelled with the load), pictures open progressively (a downscaled level, then tiles, with
 * progress in `work`), saves patch the stored mask.
 */
export function studioEditorHost(client: ContractClient, session: Session, project: string, work: WorkProgress): EditorHost<StudioPicture> {
  const pictures = new ProgressivePictures(client, work);
  return {
    async load(id, signal) {
      const entry = session.images.find((image) => image.id === id);
      if (!entry) throw new Error(`Image "${id}" is no longer in this project.`);
      const [loaded, maskAnswer, predictionAnswer] = await Promise.allSettled([
        pictures.load(project, id, entry.originalName, signal),
        client.invoke('masks.get', { project, id }, { signal }),
        client.invoke('predictions.get', { project, id }, { signal }),
      ]);
      if (loaded.status === 'rejected') throw loaded.reason;
      const picture = loaded.value;
      try {
        if (maskAnswer.status === 'rejected') throw maskAnswer.reason;
        if (predictionAnswer.status === 'rejected') throw predictionAnswer.reason;
        const [mask, prediction] = [maskAnswer.value, predictionAnswer.value];
        if (!mask.ok) throw new Error(mask.error.message);
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
        pictures.release(picture);
        throw err;
      }
    },
    release: (picture) => pictures.release(picture),
    async save(id, map, tiles) {
      const saved = await saveTiles(client, project, id, map, tiles);
      if (saved) session.updateImage(saved);
    },
    left: () => void session.refresh(),
  };
}
