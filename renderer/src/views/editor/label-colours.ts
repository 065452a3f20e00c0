import { type ClassDef, IGNORE_LABEL } from '../../../../app/contract/schemas.js';
import { hexToRgb, packRgba } from '../../../../app/editor/colormaps.js';

/** The ignore label is drawn as a neutral grey so it reads as "not decided". */
const IGNORE_RGBA: [number, number, number, number] = [150, 150, 160, 200];

/**
 * Label → packed RGBA (as a little-endian Uint32, the byte order of ImageData on every platform
 * browsers run on). Background (0) is transparent so the image shows through.
 */
export function labelColourTable(classes: readonly ClassDef[], alpha = 255): Uint32Array {
  const table = new Uint32Array(256);
  for (const classDef of classes) {
    if (classDef.id === 0) continue;
    const [r, g, b] = hexToRgb(classDef.color);
    table[classDef.id] = packRgba(r, g, b, alpha);
  }
  table[IGNORE_LABEL] = packRgba(...IGNORE_RGBA);
  return table;
}
