/**
 * Colormaps for grey images, as napari and Fiji offer them. Each maps a shown intensity (0-255,
 * after contrast limits) to an RGBA colour packed as a little-endian Uint32 (ImageData's byte order).
 * Viridis and magma are interpolated from matplotlib's colours at ten even stops.
 */
export const COLORMAPS = ['grey', 'inverted', 'viridis', 'magma'] as const;
export type Colormap = (typeof COLORMAPS)[number];

const STOPS: Record<'viridis' | 'magma', string[]> = {
  viridis: ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'],
  magma: ['#000004', '#180f3d', '#440f76', '#721f81', '#9e2f7f', '#cd4071', '#f1605d', '#fd9668', '#feca8d', '#fcfdbf'],
};

/** Packs a colour as ImageData stores it, read through a Uint32Array on a little-endian machine. */
export function packRgba(r: number, g: number, b: number, a = 255): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export function hexToRgb(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** The 256 colours of a colormap, from intensity 0 to 255. */
export function colormapTable(name: Colormap): Uint32Array {
  const table = new Uint32Array(256);
  for (let value = 0; value < 256; value++) {
    if (name === 'grey') table[value] = packRgba(value, value, value);
    else if (name === 'inverted') table[value] = packRgba(255 - value, 255 - value, 255 - value);
    else table[value] = packRgba(...interpolate(STOPS[name], value / 255));
  }
  return table;
}

function interpolate(stops: string[], t: number): [number, number, number] {
  const position = t * (stops.length - 1);
  const index = Math.min(stops.length - 2, Math.floor(position));
  const fraction = position - index;
  const from = hexToRgb(stops[index]!);
  const to = hexToRgb(stops[index + 1]!);
  return [0, 1, 2].map((c) => Math.round(from[c]! + (to[c]! - from[c]!) * fraction)) as [number, number, number];
}
