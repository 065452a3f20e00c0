import type { TrainingSample } from './training-sample.js';

/** Memory a decoded sample holds: its intensities and its labels. */
export function sampleBytes(sample: TrainingSample): number {
  return sample.image.byteLength + sample.labels.byteLength;
}

/**
 * When a sample is next needed, as a position in the planned order (smaller = sooner); Infinity
 * when it is not needed again in the current plan.
 */
export type NextUse = (index: number) => number;

/**
 * Decoded training samples kept between uses, never more than `maxBytes` of them. What to keep
 * follows the plan rather than recency: to make room, the samples needed latest go first, and a
 * sample needed later than all those held is not kept. Epochs visit every sample once in a fresh
 * random order, where least-recently-used would drop exactly the samples the epoch has yet to
 * visit; this keeps one set from epoch to epoch, so every epoch gets as many hits as fit.
 */
export class SampleCache {
  private readonly entries = new Map<number, TrainingSample>();
  private held = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes of the samples held now (at most `maxBytes`). */
  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  get(index: number): TrainingSample | undefined {
    return this.entries.get(index);
  }

  /** Keeps `sample` when it fits, dropping samples needed later than it if that makes room; says whether it was kept. */
  offer(index: number, sample: TrainingSample, nextUse: NextUse): boolean {
    if (this.entries.has(index)) return true;
    const bytes = sampleBytes(sample);
    if (bytes > this.maxBytes) return false;
    if (this.held + bytes > this.maxBytes) {
      const own = nextUse(index);
      const later = [...this.entries.keys()].filter((held) => nextUse(held) > own).sort((a, b) => (nextUse(a) < nextUse(b) ? 1 : nextUse(a) > nextUse(b) ? -1 : 0));
      const dropped: number[] = [];
      let free = this.maxBytes - this.held;
      for (const held of later) {
        if (free >= bytes) break;
        dropped.push(held);
        free += sampleBytes(this.entries.get(held)!);
      }
      if (free < bytes) return false;
      for (const held of dropped) this.drop(held);
    }
    this.entries.set(index, sample);
    this.held += bytes;
    return true;
  }

  private drop(index: number): void {
    this.held -= sampleBytes(this.entries.get(index)!);
    this.entries.delete(index);
  }
}
