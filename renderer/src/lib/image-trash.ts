import type { TrashedImage } from '../../../app/contract/project-edits.js';
import type { Session } from './session.svelte.js';

/** What Undo needs after a delete: the trash entries and where each image stood in the order. */
export interface Deletion {
  trashed: TrashedImage[];
  positions: Map<string, number>;
}

/**
 * Deletes images into the project's trash (they come back with Undo while the project is open) and
 * takes them out of the page's index and order at once; resolves with an error message or the deletion.
 */
export async function deleteImages(session: Session, ids: readonly string[]): Promise<Deletion | string> {
  const project = session.project;
  if (!project) return 'No project is open.';
  const answer = await session.client.invoke('images.delete', { project: project.path, ids: [...ids] });
  if (!answer.ok) return answer.error.message;
  const gone = new Set(ids);
  const positions = new Map(session.imageOrder.flatMap((id, index) => (gone.has(id) ? [[id, index] as const] : [])));
  session.images = session.images.filter((image) => !gone.has(image.id));
  session.imageOrder = session.imageOrder.filter((id) => !gone.has(id));
  return { trashed: answer.value.trashed, positions };
}

/** Puts deleted images back, each at its old place in the order; resolves with an error message or null. */
export async function undoDeletion(session: Session, deletion: Deletion): Promise<string | null> {
  const project = session.project;
  if (!project) return 'No project is open.';
  const answer = await session.client.invoke('images.restore', { project: project.path, keys: deletion.trashed.map((item) => item.key) });
  if (!answer.ok) return answer.error.message;
  const restored = answer.value.restored;
  session.images = [...session.images, ...restored];
  const order = [...session.imageOrder];
  for (const image of [...restored].sort((a, b) => (deletion.positions.get(a.id) ?? Infinity) - (deletion.positions.get(b.id) ?? Infinity))) {
    const at = deletion.positions.get(image.id);
    if (at !== undefined) order.splice(Math.min(at, order.length), 0, image.id);
  }
  session.imageOrder = order;
  return null;
}
