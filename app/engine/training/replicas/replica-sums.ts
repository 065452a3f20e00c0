/**
 * How the replicas of a data-parallel step add up what each computed on its part of the batch:
 * every replica calls `sum` with its own values, in the same order; each call returns, on every
 * replica, the element-wise sum over all replicas, added in replica order so that every replica
 * gets the same float32 numbers (and, applying the same update, keeps the same weights).
 */
export interface ReplicaSums {
  readonly replicas: number;
  /**
   * Blocks until every replica has given its `length` values, which `write` puts straight into the
   * shared slot it is handed (no copy of a whole model's gradients on the way). The sums returned
   * are a view, valid until this replica's next call.
   */
  sum(length: number, write: (slot: Float32Array) => void): Float32Array;
}

/** `values` summed over the replicas (a copy, valid after later calls). */
export function sumValues(sums: ReplicaSums, values: Float32Array): Float32Array {
  return sums.sum(values.length, (slot) => slot.set(values)).slice();
}

enum Word {
  /** Replicas that reached the current barrier. */
  Arrived = 0,
  /** Barriers passed so far; waiters sleep on it. */
  Generation = 1,
  /** Set by a replica whose step failed, so that the others stop waiting for it. */
  Failed = 2,
}
const HEADER_BYTES = 16;
/** A waiter looks at Failed this often while it sleeps (a replica that failed notifies it at once). */
const WAIT_SLICE_MILLISECONDS = 1000;

/** What each replica's thread is given to share the sums (the same buffer for all). */
export interface SharedSumsData {
  buffer: SharedArrayBuffer;
  replicas: number;
  capacity: number;
}

/**
 * ReplicaSums over one SharedArrayBuffer: a slot of `capacity` floats per replica and one for the
 * result. A call writes the replica's slot, waits for all, adds up its own share of the elements
 * (replica r the r-th of N ranges) into the result, waits again, and copies the result out. The
 * second wait is what lets the next call overwrite the slots safely; the result is overwritten
 * only after the first wait of the next call, which every replica reaches once done with it.
 */
export class SharedReplicaSums implements ReplicaSums {
  private readonly words: Int32Array;
  private readonly slots: Float32Array[];
  private readonly result: Float32Array;

  constructor(
    data: SharedSumsData,
    /** This replica's number, 0 to replicas - 1. */
    private readonly replica: number,
  ) {
    this.words = new Int32Array(data.buffer, 0, HEADER_BYTES / 4);
    const slot = (index: number) => new Float32Array(data.buffer, HEADER_BYTES + index * data.capacity * 4, data.capacity);
    this.slots = Array.from({ length: data.replicas }, (_, index) => slot(index));
    this.result = slot(data.replicas);
  }

  get replicas(): number {
    return this.slots.length;
  }

  /** A buffer for `replicas` replicas whose sums hold up to `capacity` values. */
  static allocate(replicas: number, capacity: number): SharedSumsData {
    return { buffer: new SharedArrayBuffer(HEADER_BYTES + (replicas + 1) * capacity * 4), replicas, capacity };
  }

  sum(length: number, write: (slot: Float32Array) => void): Float32Array {
    if (length > this.result.length) throw new Error(`Replica sums hold ${this.result.length} values, not ${length}.`);
    write(this.slots[this.replica]!.subarray(0, length));
    this.barrier();
    const begin = Math.floor((this.replica * length) / this.replicas);
    const end = Math.floor(((this.replica + 1) * length) / this.replicas);
    const [first, ...rest] = this.slots;
    this.result.set(first!.subarray(begin, end), begin);
    for (const slot of rest) for (let i = begin; i < end; i++) this.result[i] = this.result[i]! + slot[i]!;
    this.barrier();
    return this.result.subarray(0, length);
  }

  /** Tells the other replicas that this one will not come to the next barrier. */
  fail(): void {
    Atomics.store(this.words, Word.Failed, 1);
    Atomics.notify(this.words, Word.Generation);
  }

  private barrier(): void {
    const { words } = this;
    const generation = Atomics.load(words, Word.Generation);
    if (Atomics.add(words, Word.Arrived, 1) === this.replicas - 1) {
      Atomics.store(words, Word.Arrived, 0);
      Atomics.add(words, Word.Generation, 1);
      Atomics.notify(words, Word.Generation);
      return;
    }
    while (Atomics.load(words, Word.Generation) === generation) {
      if (Atomics.load(words, Word.Failed) !== 0) throw new Error('Another training replica failed during this step.');
      Atomics.wait(words, Word.Generation, generation, WAIT_SLICE_MILLISECONDS);
    }
  }
}
