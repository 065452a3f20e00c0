import type { EventBus } from '../app/contract/event-bus.js';
import type { JobManager } from '../app/jobs/job-manager.js';

/**
 * On quit: cancels every running job and waits (at most `timeoutMs`) until each has finished, so a
 * trainer stops after its step and its last checkpoint stays whole. Resolves with the number of
 * jobs still running when it gave up waiting.
 */
export function cancelJobsAndWait(jobs: JobManager, events: EventBus, timeoutMs: number): Promise<number> {
  const running = new Set(jobs.list().filter((job) => job.state === 'running').map((job) => job.id));
  if (running.size === 0) return Promise.resolve(0);
  return new Promise((resolve) => {
    let stop = () => {};
    const timer = setTimeout(() => {
      stop();
      resolve(running.size);
    }, timeoutMs);
    stop = events.on('job.finished', ({ jobId }) => {
      running.delete(jobId);
      if (running.size > 0) return;
      clearTimeout(timer);
      stop();
      resolve(0);
    });
    jobs.cancelAll();
  });
}
