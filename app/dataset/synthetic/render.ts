import { createRandom, type Random } from '../../random/prng.js';

/** One rendered microscopy-like sample: intensities in [0, 1] and the exact labels of what was drawn. */
export interface SyntheticSample {
  image: Float32Array;
  /** 0 background, 1 cell (cytoplasm when there are 3 classes), 2 nucleus (3 classes only). */
  labels: Uint8Array;
}

/** A wobbly ellipse: boundary at normalised radius 1 + Σ amplitude·sin(order·ψ + phase). */
interface Blob {
  cx: number;
  cy: number;
  a: number;
  b: number;
  cos: number;
  sin: number;
  harmonics: Array<{ order: number; amplitude: number; phase: number }>;
}

interface Cell {
  body: Blob;
  nucleus: Blob;
  level: number;
  nucleusLevel: number;
}

/** Cells are added until their summed area reaches this fraction of the image (overlaps and edges make it less). */
const TARGET_COVERAGE = 0.3;
const MAX_CELLS = 400;
const RIM_WIDTH_PX = 1.5;
const RIM_BOOST = 0.15;
const NOISE_SIGMA = 0.035;

/**
 * Draws cells (textured irregular blobs with a brighter rim and a brighter nucleus) on a dim, noisy,
 * unevenly lit background. Cells are clearly brighter than the background on average, so a U-Net
 * learns them easily; later cells are drawn over earlier ones and the labels follow what is drawn.
 */
export function renderSyntheticSample(seed: number, width: number, height: number, classes: 2 | 3): SyntheticSample {
  const random = createRandom(seed);
  const cells = placeCells(random, width, height);
  const cellTexture = layeredNoise(random, width, height);
  const backgroundTexture = layeredNoise(random, width, height);
  const illumination = unevenIllumination(random, width, height);
  const backgroundLevel = random.range(0.12, 0.2);

  const labels = new Uint8Array(width * height);
  const base = new Float32Array(width * height);
  for (let p = 0; p < base.length; p++) base[p] = backgroundLevel * (0.85 + 0.3 * backgroundTexture[p]);
  for (const cell of cells) drawCell(cell, classes, cellTexture, base, labels, width, height);

  const image = new Float32Array(width * height);
  for (let p = 0; p < image.length; p++) {
    image[p] = Math.min(1, Math.max(0, base[p] * illumination[p] + NOISE_SIGMA * random.normal()));
  }
  return { image, labels };
}

function placeCells(random: Random, width: number, height: number): Cell[] {
  const minSide = Math.min(width, height);
  const cells: Cell[] = [];
  let coveredArea = 0;
  for (let attempt = 0; attempt < MAX_CELLS * 10 && cells.length < MAX_CELLS; attempt++) {
    if (coveredArea >= TARGET_COVERAGE * width * height) break;
    const radius = Math.max(5, random.range(0.07, 0.12) * minSide);
    const cx = random.range(0.5 * radius, width - 0.5 * radius);
    const cy = random.range(0.5 * radius, height - 0.5 * radius);
    // Cells may touch, but not sit mostly on top of each other.
    const crowded = cells.some((c) => Math.hypot(c.body.cx - cx, c.body.cy - cy) < 0.85 * (radius + meanRadius(c.body)));
    if (crowded) continue;
    const body = randomBlob(random, cx, cy, radius, 0.3, 4, 0.05);
    const shortAxis = Math.min(body.a, body.b);
    const offset = random.range(0, 0.2 * shortAxis);
    const direction = random.range(0, 2 * Math.PI);
    const nucleus = randomBlob(
      random,
      cx + offset * Math.cos(direction),
      cy + offset * Math.sin(direction),
      random.range(0.35, 0.5) * shortAxis,
      0.15,
      2,
      0.04,
    );
    const level = random.range(0.45, 0.6);
    cells.push({ body, nucleus, level, nucleusLevel: level + random.range(0.3, 0.35) });
    coveredArea += Math.PI * body.a * body.b;
  }
  return cells;
}

function randomBlob(
  random: Random,
  cx: number,
  cy: number,
  radius: number,
  maxElongation: number,
  harmonicCount: number,
  maxAmplitude: number,
): Blob {
  const elongation = random.range(0, maxElongation);
  const angle = random.range(0, Math.PI);
  const harmonics = Array.from({ length: harmonicCount }, (_, i) => ({
    order: i + 2,
    amplitude: random.range(0, maxAmplitude),
    phase: random.range(0, 2 * Math.PI),
  }));
  return {
    cx,
    cy,
    a: radius * (1 + elongation),
    b: radius * (1 - elongation),
    cos: Math.cos(angle),
    sin: Math.sin(angle),
    harmonics,
  };
}

function meanRadius(blob: Blob): number {
  return (blob.a + blob.b) / 2;
}

/** Approximate distance in pixels from (x, y) to the blob's boundary: positive inside, negative outside. */
function depthInside(blob: Blob, x: number, y: number): number {
  const dx = x - blob.cx;
  const dy = y - blob.cy;
  const u = (dx * blob.cos + dy * blob.sin) / blob.a;
  const v = (-dx * blob.sin + dy * blob.cos) / blob.b;
  const psi = Math.atan2(v, u);
  let boundary = 1;
  for (const h of blob.harmonics) boundary += h.amplitude * Math.sin(h.order * psi + h.phase);
  const pixelsPerUnit = Math.hypot(blob.a * Math.cos(psi), blob.b * Math.sin(psi));
  return (boundary - Math.hypot(u, v)) * pixelsPerUnit;
}

function drawCell(
  cell: Cell,
  classes: 2 | 3,
  texture: Float32Array,
  base: Float32Array,
  labels: Uint8Array,
  width: number,
  height: number,
): void {
  const { body } = cell;
  const wobble = body.harmonics.reduce((sum, h) => sum + h.amplitude, 0);
  const reach = Math.max(body.a, body.b) * (1 + wobble) + 1;
  const x0 = Math.max(0, Math.floor(body.cx - reach));
  const x1 = Math.min(width - 1, Math.ceil(body.cx + reach));
  const y0 = Math.max(0, Math.floor(body.cy - reach));
  const y1 = Math.min(height - 1, Math.ceil(body.cy + reach));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const depth = depthInside(body, x + 0.5, y + 0.5);
      if (depth <= 0) continue;
      const p = y * width + x;
      const textured = 0.9 + 0.2 * texture[p];
      if (depthInside(cell.nucleus, x + 0.5, y + 0.5) > 0) {
        labels[p] = classes === 3 ? 2 : 1;
        base[p] = cell.nucleusLevel * textured;
      } else {
        labels[p] = 1;
        base[p] = cell.level * textured + (depth < RIM_WIDTH_PX ? RIM_BOOST : 0);
      }
    }
  }
}

/** Smooth texture in [0, 1]: two octaves of bilinearly interpolated value noise. */
function layeredNoise(random: Random, width: number, height: number): Float32Array {
  const coarse = valueNoise(random, width, height, 8);
  const fine = valueNoise(random, width, height, 3);
  return coarse.map((c, p) => 0.65 * c + 0.35 * fine[p]);
}

function valueNoise(random: Random, width: number, height: number, spacing: number): Float32Array {
  const gridWidth = Math.ceil(width / spacing) + 2;
  const gridHeight = Math.ceil(height / spacing) + 2;
  const grid = Float32Array.from({ length: gridWidth * gridHeight }, () => random.next());
  const smooth = (t: number) => t * t * (3 - 2 * t);
  const noise = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = Math.floor(y / spacing);
    const ty = smooth(y / spacing - gy);
    for (let x = 0; x < width; x++) {
      const gx = Math.floor(x / spacing);
      const tx = smooth(x / spacing - gx);
      const i = gy * gridWidth + gx;
      const top = grid[i] + (grid[i + 1] - grid[i]) * tx;
      const bottom = grid[i + gridWidth] + (grid[i + gridWidth + 1] - grid[i + gridWidth]) * tx;
      noise[y * width + x] = top + (bottom - top) * ty;
    }
  }
  return noise;
}

/** A linear gradient times a vignette, between roughly 0.7 and 1.2, as from an uneven lamp. */
function unevenIllumination(random: Random, width: number, height: number): Float32Array {
  const angle = random.range(0, 2 * Math.PI);
  const gradient = random.range(0.1, 0.25);
  const vignette = random.range(0.1, 0.25);
  const light = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const ny = (y + 0.5) / height - 0.5;
    for (let x = 0; x < width; x++) {
      const nx = (x + 0.5) / width - 0.5;
      light[y * width + x] = (1 + gradient * 2 * (nx * Math.cos(angle) + ny * Math.sin(angle))) * (1 - vignette * (nx * nx + ny * ny));
    }
  }
  return light;
}
