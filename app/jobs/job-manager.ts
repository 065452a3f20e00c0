import { randomUUID } from 'node:crypto';
import { type Envelope, fail, ok } from '../contract/envelope.js';
import { toContractError } from '../contract/errors.js';
import type { EventBus } from '../contract/event-bus.js';
import type { JobFinished, JobResult } from '../contract/job-results.js';
import { describeFileError } from '../files/file-errors.js';
import type { JobInfo, JobKind, JobProgress } from '../contract/schemas.js';
import { ProgressThrottle } from './progress-throttle.js';

export interface JobContext {
  readonly signal: AbortSignal;
  /** Throttled: call it as often as convenient. */
  progress(done: number, total: number, message: string): void;
}

export interface StartedJob<T> {
  id: string;
  /** Settles with the job's envelope; never rejects. */
  finished: Promise<Envelope<T>>;
}

interface JobRecord {
  info: JobInfo;
  controller: AbortController;
}

const KEEP_FINISHED = 50;

/**
 * Runs long work (imports, exports, training, batch segmentation, predictions) as cancellable jobs
 * that report throttled progress and finish with an envelope of their kind's result (see
 * job-results.ts) on the event bus. A failing job never throws into its host.
 */
export class JobManager {
  private readonly jobs = new Map<string, JobRecord>();

  constructor(
    private readonly events: EventBus,
    private readonly progressIntervalMs = 250,
  ) {}

  start<K extends JobKind>(kind: K, label: string, run: (job: JobContext) => Promise<JobResult<K>>): StartedJob<JobResult<K>> {
    const id = randomUUID();
    const controller = new AbortController();
    const info: JobInfo = { id, kind, label, state: 'running', startedAt: new Date().toISOString(), progress: null };
    this.jobs.set(id, { info, controller });
    this.forgetOldJobs();

    const throttle = new ProgressThrottle<JobProgress>((progress) => {
      info.progress = progress;
      this.events.emit('job.progress', progress);
    }, this.progressIntervalMs);
    const context: JobContext = {
      signal: controller.signal,
      progress: (done, total, message) => throttle.report({ jobId: id, kind, done, total, message }),
    };

    const finished = (async (): Promise<Envelope<JobResult<K>>> => {
      let result: Envelope<JobResult<K>>;
      try {
        result = ok(await run(context));
      } catch (err) {
        result = fail(toContractError(describeFileError(err)));
      }
      throttle.flush();
      info.state = result.ok ? 'succeeded' : result.error.code === 'cancelled' ? 'cancelled' : 'failed';
      // TypeScript cannot pair a generic kind with its result in the event's union; `run`'s type did.
      this.events.emit('job.finished', { jobId: id, kind, result } as JobFinished);
      return result;
    })();
    return { id, finished };
  }

  cancel(id: string): boolean {
    const record = this.jobs.get(id);
    if (!record || record.info.state !== 'running') return false;
    record.controller.abort();
    return true;
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((record) => structuredClone(record.info));
  }

  /** Cancels every running job, e.g. when the host shuts down. */
  cancelAll(): void {
    for (const record of this.jobs.values()) record.controller.abort();
  }

  private forgetOldJobs(): void {
    const finished = [...this.jobs.values()].filter((record) => record.info.state !== 'running');
    for (const record of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) {
      this.jobs.delete(record.info.id);
    }
  }
}
