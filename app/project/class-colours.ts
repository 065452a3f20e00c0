/** Distinct, colour-blind-friendly defaults (Okabe-Ito first); background is black. */
const PALETTE = ['#e69f00', '#56b4e9', '#009e73', '#f0e442', '#0072b2', '#d55e00', '#cc79a7', '#999999'];

export function defaultClassColour(classId: number): string {
  if (classId === 0) return '#000000';
  const base = PALETTE[(classId - 1) % PALETTE.length]!;
  if (classId <= PALETTE.length) return base;
  // Past the palette, rotate the hue deterministically so every class still gets its own colour.
  const hue = (classId * 137.508) % 360;
  return hslToHex(hue, 0.65, 0.5);
}

function hslToHex(hue: number, saturation: number, lightness: number): string {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const x = chroma * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = lightness - chroma / 2;
  const [r, g, b] =
    hue < 60 ? [chroma, x, 0] : hue < 120 ? [x, chroma, 0] : hue < 180 ? [0, chroma, x] : hue < 240 ? [0, x, chroma] : hue < 300 ? [x, 0, chroma] : [chroma, 0, x];
  return `#${[r, g, b].map((v) => Math.round((v + m) * 255).toString(16).padStart(2, '0')).join('')}`;
}
