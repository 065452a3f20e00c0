import { z } from 'zod';
import { type Envelope, envelopeOf, fail } from './envelope.js';
import { ImportCheck } from './import-check.js';
import { ExportDatasetReport, ImportReport, JobKind } from './schemas.js';
import { PredictionsReport, SegmentReport } from './segmentation.js';
import { RunSummary } from './training.js';

interface JobResults {
  import: ImportReport;
  'import-check': ImportCheck;
  'export-dataset': ExportDatasetReport;
  train: RunSummary;
  segment: SegmentReport;
  predict: PredictionsReport;
}
export type JobResult<K extends JobKind> = JobResults[K];

/** What each kind of job finishes with; the client checks every `job.finished` event against it. */
export const jobResults: { [K in JobKind]: z.ZodType<JobResult<K>> } = {
  import: ImportReport,
  'import-check': ImportCheck,
  'export-dataset': ExportDatasetReport,
  train: RunSummary,
  segment: SegmentReport,
  predict: PredictionsReport,
};

function finishedEvent<K extends JobKind>(kind: K) {
  return z.object({ jobId: z.string(), kind: z.literal(kind), result: envelopeOf(jobResults[kind]) });
}

/** The `job.finished` event: one shape per job kind, so a result is never `unknown` on arrival. */
export const JobFinished = z.discriminatedUnion('kind', [
  finishedEvent('import'),
  finishedEvent('import-check'),
  finishedEvent('export-dataset'),
  finishedEvent('train'),
  finishedEvent('segment'),
  finishedEvent('predict'),
]);
export type JobFinished = z.output<typeof JobFinished>;

/**
 * The outcome of a finished job as the kind its caller started: the event was validated on arrival;
 * this narrows it to the caller's kind (a job id of another kind is reported, not trusted).
 */
export function jobOutcome<K extends JobKind>(kind: K, event: JobFinished): Envelope<JobResult<K>> {
  if (event.kind !== kind) return fail({ code: 'internal', message: `Job ${event.jobId} is of kind "${event.kind}", not "${kind}".` });
  if (!event.result.ok) return event.result;
  const parsed = jobResults[kind].safeParse(event.result.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return fail({ code: 'internal', message: `The ${kind} job's result does not match the contract: ${z.prettifyError(parsed.error)}` });
}
