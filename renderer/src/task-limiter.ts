/**
 * Runs at most `concurrency` tasks at a time, the rest in call order. Keeps a grid of hundreds of
 * images from asking the host to decode hundreds of thumbnails at once.
 */
export function createTaskLimiter(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running < concurrency) running += 1;
    else await new Promise<void>((start) => waiting.push(start)); // a finishing task hands over its slot
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}
