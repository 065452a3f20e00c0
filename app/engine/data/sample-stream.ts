import type { SampleCache } from './sample-cache.js';
import type { TrainingSample } from './training-sample.js';

/** Batches whose samples are read while the current one is cut. */
export const BATCHES_AHEAD = 2;

/**
 * Training samples in the order of an epoch's planned batches, read from disk by `read`: when a
 * batch is taken, the samples of the next `BATCHES_AHEAD` batches start decoding (the decoder runs
 * on its own threads), and between epochs `cache` keeps what its bound allows. Memory is the cache,
 * the samples read ahead and the batches in progress, whatever the number of images.
 */
export class SampleStream {
  /** Position of each sample in the epoch's order. */
  private positions = new Map<number, number>();
  private order: readonly number[] = [];
  /** Samples this epoch has taken: not needed again until the next plan. */
  private readonly taken = new Set<number>();
  private readonly reading = new Map<number, Promise<TrainingSample>>();
  /** Positions before this one have been read or are being read. */
  private readUntil = 0;

  constructor(
    private readonly read: (index: number) => Promise<TrainingSample>,
    readonly cache: SampleCache,
  ) {}

  /** Sets the epoch's order of samples (its batches one after the other). */
  plan(order: readonly number[]): void {
    this.order = order;
    this.positions = new Map(order.map((index, position) => [index, position]));
    this.taken.clear();
    this.readUntil = 0;
  }

  /** The samples of one planned batch, in the order given. */
  take(indices: readonly number[]): Promise<TrainingSample[]> {
    const last = Math.max(...indices.map((index) => this.positions.get(index) ?? -1));
    this.readAhead(last + 1 + BATCHES_AHEAD * indices.length);
    return Promise.all(indices.map((index) => this.sample(index)));
  }

  /** Resolves when no read is in progress (a decoder thread must not be cut off mid-file, see the worker). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.reading.values()]);
  }

  private async sample(index: number): Promise<TrainingSample> {
    const cached = this.cache.get(index);
    if (cached) {
      this.taken.add(index);
      return cached;
    }
    let sample: TrainingSample;
    try {
      sample = await this.startRead(index);
    } finally {
      this.reading.delete(index);
    }
    this.taken.add(index);
    this.cache.offer(index, sample, this.nextUse);
    return sample;
  }

  private readonly nextUse = (index: number): number => (this.taken.has(index) ? Infinity : (this.positions.get(index) ?? Infinity));

  private readAhead(until: number): void {
    for (; this.readUntil < Math.min(until, this.order.length); this.readUntil++) {
      const index = this.order[this.readUntil]!;
      if (!this.cache.get(index)) this.startRead(index).catch(() => undefined); // a failure is reported when the sample is taken
    }
  }

  /** Samples read ahead stay in `reading` until taken. */
  private startRead(index: number): Promise<TrainingSample> {
    const pending = this.reading.get(index);
    if (pending) return pending;
    const started = this.read(index);
    this.reading.set(index, started);
    return started;
  }
}
