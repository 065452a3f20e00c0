import { SvelteMap } from 'svelte/reactivity';
import type { ContractClient } from '../../../app/contract/client.js';
import type { Envelope } from '../../../app/contract/envelope.js';
import { type JobFinished, type JobResult, jobOutcome } from '../../../app/contract/job-results.js';
import type { JobKind, JobProgress } from '../../../app/contract/schemas.js';

/**
 * Follows every job's progress and outcome from the moment the page connects, so a view that starts
 * a job can wait for it even if it finishes before the view subscribes.
 */
export class JobTracker {
  /** The latest progress of each running job (removed when it finishes). */
  readonly progress = new SvelteMap<string, JobProgress>();
  private readonly results = new Map<string, JobFinished>();
  private readonly waiters = new Map<string, Array<(event: JobFinished) => void>>();

  constructor(client: ContractClient) {
    client.on('job.progress', (event) => this.progress.set(event.jobId, event));
    client.on('job.finished', (event) => {
      this.results.set(event.jobId, event);
      this.progress.delete(event.jobId);
      for (const resolve of this.waiters.get(event.jobId) ?? []) resolve(event);
      this.waiters.delete(event.jobId);
    });
  }

  /** The result of a job of this kind (validated against the kind's schema in the contract). */
  async finished<K extends JobKind>(kind: K, jobId: string): Promise<Envelope<JobResult<K>>> {
    const event =
      this.results.get(jobId) ??
      (await new Promise<JobFinished>((resolve) => {
        const list = this.waiters.get(jobId) ?? [];
        list.push(resolve);
        this.waiters.set(jobId, list);
      }));
    return jobOutcome(kind, event);
  }
}
