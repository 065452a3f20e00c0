import type { ModelOutput, TileSession } from './session-thread.js';
import { toProbabilities } from './tiled-inference.js';

/**
 * One of the eight flips and quarter turns of a square: first a mirror of x when `mirror`, then
 * `turns` quarter turns (counter-clockwise, as numpy's rot90).
 */
interface Placement {
  mirror: boolean;
  turns: number;
}

const ALL_PLACEMENTS: readonly Placement[] = [false, true].flatMap((mirror) => [0, 1, 2, 3].map((turns) => ({ mirror, turns })));
/** Those that keep a non-square tile's shape: identity, half turn, and the two mirrors. */
const SHAPE_KEEPING: readonly Placement[] = ALL_PLACEMENTS.filter((placement) => placement.turns % 2 === 0);

/** Probabilities are kept this far from 0 and 1 before they become logits again. */
const PROBABILITY_EPSILON = 1e-7;

/**
 * Test-time augmentation: each run of `session` becomes eight, on the tiles mirrored and turned by
 * quarter turns; every output is turned back, activated (sigmoid or softmax), and the eight
 * probability maps are averaged. The average goes out as logits (log-odds, or log p for a softmax)
 * that activate back to exactly those probabilities, so everything after the session (blending,
 * resampling, the threshold) works unchanged. A model with a fixed non-square input gets only the
 * four placements that keep its shape; the eight runs are queued at once, so a pool of sessions
 * runs them side by side.
 */
export function testTimeAugmented(session: TileSession, options: { fixedInputShape: boolean }): TileSession {
  return {
    parallelism: session.parallelism,
    async run(input, dims): Promise<ModelOutput> {
      const [tiles, channels, height, width] = dims as [number, number, number, number];
      const placements = options.fixedInputShape && height !== width ? SHAPE_KEEPING : ALL_PLACEMENTS;
      const outputs = await Promise.all(
        placements.map(async (placement) => {
          const placed = place(input, tiles * channels, height, width, placement);
          const output = await session.run(placed.data, [tiles, channels, placed.height, placed.width]);
          const outputChannels = output.dims[1]!;
          const back = unplace(output.data, tiles * outputChannels, placed.height, placed.width, placement);
          return { probabilities: toProbabilities(back.data, tiles, outputChannels, height * width), outputChannels };
        }),
      );
      const { outputChannels } = outputs[0]!;
      const mean = new Float32Array(outputs[0]!.probabilities.length);
      for (const { probabilities } of outputs) for (let i = 0; i < mean.length; i++) mean[i] = mean[i]! + probabilities[i]!;
      for (let i = 0; i < mean.length; i++) mean[i] = toLogit(mean[i]! / outputs.length, outputChannels === 1);
      return { data: mean, dims: [tiles, outputChannels, height, width] };
    },
    release: () => session.release(),
  };
}

function toLogit(probability: number, sigmoid: boolean): number {
  const p = Math.min(1 - PROBABILITY_EPSILON, Math.max(PROBABILITY_EPSILON, probability));
  return sigmoid ? Math.log(p / (1 - p)) : Math.log(p);
}

interface Planes {
  data: Float32Array;
  height: number;
  width: number;
}

/**
 * `planes` images of height x width, one after the other, placed as `placement` says; always a new
 * array (a session may take the buffer it is given).
 */
export function place(data: Float32Array, planes: number, height: number, width: number, placement: Placement): Planes {
  let current: Planes = { data: placement.mirror || placement.turns > 0 ? data : data.slice(), height, width };
  if (placement.mirror) current = mirrorX(current, planes);
  for (let turn = 0; turn < placement.turns; turn++) current = quarterTurn(current, planes);
  return current;
}

/** The inverse of `place`: turns back the rest of the full turn, then mirrors. */
export function unplace(data: Float32Array, planes: number, height: number, width: number, placement: Placement): Planes {
  let current: Planes = { data, height, width };
  for (let turn = 0; turn < (4 - placement.turns) % 4; turn++) current = quarterTurn(current, planes);
  if (placement.mirror) current = mirrorX(current, planes);
  return current;
}

function mirrorX({ data, height, width }: Planes, planes: number): Planes {
  const out = new Float32Array(data.length);
  for (let p = 0; p < planes; p++) {
    const base = p * height * width;
    for (let y = 0; y < height; y++) {
      const row = base + y * width;
      for (let x = 0; x < width; x++) out[row + x] = data[row + width - 1 - x]!;
    }
  }
  return { data: out, height, width };
}

/** Counter-clockwise: out[i][j] = in[j][width - 1 - i]; the result is width high and height wide. */
function quarterTurn({ data, height, width }: Planes, planes: number): Planes {
  const out = new Float32Array(data.length);
  for (let p = 0; p < planes; p++) {
    const base = p * height * width;
    for (let i = 0; i < width; i++) {
      for (let j = 0; j < height; j++) out[base + i * height + j] = data[base + j * width + width - 1 - i]!;
    }
  }
  return { data: out, height: width, width: height };
}
