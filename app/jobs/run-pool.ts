import { throwIfCancelled } from '../contract/errors.js';

/**
 * Runs `work` over items with at most `concurrency` in flight (sharp decodes on libuv's threads, so
 * two or more overlap usefully). Stops taking new items once the signal fires, lets the items in flight finish, then rethrows.
 */
export async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      throwIfCancelled(signal);
      const index = next++;
      await work(items[index]!, index);
    }
  };
  // Wait for every worker, also after one failed, so nothing is still writing when this returns.
  const outcomes = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  throwIfCancelled(signal);
}
