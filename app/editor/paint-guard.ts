import { IGNORE_LABEL } from '../contract/schemas.js';

/**
 * Preserve labels, as napari has it: painting (brush, polygon, fill) only changes pixels that carry
 * no class yet (background 0 or unlabelled 255), and erasing only changes pixels of the selected
 * class, so neighbouring objects are never painted over. The guard is a 256-entry table: 1 where a
 * pixel with that label may change (see Edit.paintSpan).
 */
export function paintGuard(mode: 'paint' | 'erase', selected: number): Uint8Array {
  const guard = new Uint8Array(256);
  if (mode === 'erase') guard[selected] = 1;
  else {
    guard[0] = 1;
    guard[IGNORE_LABEL] = 1;
  }
  return guard;
}
