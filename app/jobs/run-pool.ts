import { throwIfCancelled } from '../contract/errors.js';

/**
 * Runs `work` over items with at most `concurrency` in flight (sharp decodes on libuv's threads, so
 * two or more overlap usefully). Stops taking new items once the signal fires, then rethrows.
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
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  throwIfCancelled(signal);
}
