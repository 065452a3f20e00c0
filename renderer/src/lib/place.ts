import { type Place, VIEW_NAMES, type ViewName } from './session.svelte.js';

/**
 * The place in the page address: `#project=<path>&view=<view>&image=<id>`. The hash (not the
 * query) holds it, so the host's token never mixes with it and it never reaches the server.
 */
export function readPlace(hash: string = location.hash): Place {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const view = params.get('view');
  const known = (VIEW_NAMES as readonly string[]).includes(view ?? '');
  return { project: params.get('project') || null, view: known ? (view as ViewName) : 'dataset', image: params.get('image') || null };
}

export function placeHash(place: Place): string {
  if (!place.project) return '';
  const params = new URLSearchParams({ project: place.project, view: place.view });
  if (place.image) params.set('image', place.image);
  return `#${params.toString()}`;
}

/**
 * Keeps the address and the session's place in step: a new project or view is a new history entry
 * (Back returns to it), another image in the editor replaces the entry (←/→ do not flood the
 * history). Back/Forward and edited addresses move the session there. Returns the stop function.
 */
export function followPlace(session: { place: Place; open(path: string, place: Pick<Place, 'view' | 'image'>): Promise<string | null>; close(): void; view: ViewName; imageId: string | null }, onProblem: (message: string) => void): { write(): void; stop(): void } {
  let written = location.hash;
  // The first write settles the address the page was opened with (a project that could not open is dropped from it).
  let settled = false;
  const write = () => {
    const place = session.place;
    const hash = placeHash(place);
    if (hash === written) return void (settled = true);
    const before = readPlace(written);
    const sameScreen = before.project === place.project && before.view === place.view;
    const url = `${location.pathname}${location.search}${hash}`;
    if (sameScreen || !settled) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    written = hash;
    settled = true;
  };
  const moved = () => {
    written = location.hash;
    const place = readPlace(written);
    if (!place.project) return session.close();
    if (place.project !== session.place.project) {
      void session.open(place.project, place).then((problem) => problem && onProblem(problem));
      return;
    }
    session.view = place.view;
    if (place.image) session.imageId = place.image;
  };
  // Back/Forward and an edited address both fire popstate (pushState and replaceState do not).
  window.addEventListener('popstate', moved);
  return { write, stop: () => window.removeEventListener('popstate', moved) };
}
