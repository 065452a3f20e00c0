import { SvelteMap } from 'svelte/reactivity';
import type { ContractClient } from '../../../app/contract/client.js';
import type { Envelope } from '../../../app/contract/envelope.js';
import type { JobProgress } from '../../../app/contract/schemas.js';

/**
 * Follows every job's progress and outcome from the moment the page connects, so a view that starts
 * a job can wait for it even if it finishes before the view subscribes.
 */
export class JobTracker {
  /** The latest progress of each running job (removed when it finishes). */
  readonly progress = new SvelteMap<string, JobProgress>();
  private readonly results = new Map<string, Envelope<unknown>>();
  private readonly waiters = new Map<string, Array<(result: Envelope<unknown>) => void>>();

  constructor(client: ContractClient) {
    client.on('job.progress', (event) => this.progress.set(event.jobId, event));
    client.on('job.finished', (event) => {
      this.results.set(event.jobId, event.result as Envelope<unknown>);
      this.progress.delete(event.jobId);
      for (const resolve of this.waiters.get(event.jobId) ?? []) resolve(event.result as Envelope<unknown>);
      this.waiters.delete(event.jobId);
    });
  }

  finished<T = unknown>(jobId: string): Promise<Envelope<T>> {
    const known = this.results.get(jobId);
    if (known) return Promise.resolve(known as Envelope<T>);
    return new Promise((resolve) => {
      const list = this.waiters.get(jobId) ?? [];
      list.push(resolve as (result: Envelope<unknown>) => void);
      this.waiters.set(jobId, list);
    });
  }
}
