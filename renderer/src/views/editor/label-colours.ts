import { type ClassDef, IGNORE_LABEL } from '../../../../app/contract/schemas.js';

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
    table[classDef.id] = pack(r, g, b, alpha);
  }
  table[IGNORE_LABEL] = pack(...IGNORE_RGBA);
  return table;
}

function pack(r: number, g: number, b: number, a: number): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export function hexToRgb(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}
