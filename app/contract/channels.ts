import { z } from 'zod';
import { EnvelopeSchema } from './envelope.js';
import {
  ClassDef,
  ExportDatasetRequest,
  ImageEntry,
  ImageStatus,
  ImportPlan,
  ImportRequest,
  JobInfo,
  JobKind,
  JobProgress,
  ProjectSummary,
} from './schemas.js';
import { EpochRecord, RunSummary, TrainEpochEvent, TrainProgress, TrainRequest } from './training.js';

/** A request channel: the host validates `input` before any service runs; clients validate `output`. */
export interface RequestChannel<I extends z.ZodType, O extends z.ZodType> {
  input: I;
  output: O;
}

function request<I extends z.ZodType, O extends z.ZodType>(input: I, output: O): RequestChannel<I, O> {
  return { input, output };
}

const JobStarted = z.object({ jobId: z.string() });

export const requestChannels = {
  'project.create': request(
    z.object({
      path: z.string().min(1),
      name: z.string().trim().min(1).max(120).optional(),
      /** Foreground class names; class 0 "background" is added. */
      classes: z.array(z.string().trim().min(1).max(64)).min(1).max(254),
    }),
    ProjectSummary,
  ),
  'project.open': request(z.object({ path: z.string().min(1) }), ProjectSummary),
  'project.setClasses': request(
    z.object({ project: z.string().min(1), classes: z.array(ClassDef).min(2) }),
    ProjectSummary,
  ),
  'images.list': request(
    z.object({
      project: z.string().min(1),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(10_000).default(500),
      status: ImageStatus.optional(),
      search: z.string().optional(),
    }),
    z.object({ total: z.number().int(), items: z.array(ImageEntry) }),
  ),
  'images.thumbnail': request(
    z.object({ project: z.string().min(1), id: z.string().min(1) }),
    z.object({ mime: z.string(), base64: z.string() }),
  ),
  'import.preview': request(ImportRequest, ImportPlan),
  'import.start': request(ImportRequest, JobStarted),
  'dataset.export': request(ExportDatasetRequest, JobStarted),
  'train.start': request(TrainRequest, z.object({ jobId: z.string(), runId: z.string() })),
  'runs.list': request(z.object({ project: z.string().min(1) }), z.array(RunSummary)),
  'runs.metrics': request(z.object({ project: z.string().min(1), runId: z.string().min(1) }), z.array(EpochRecord)),
  'jobs.list': request(z.object({}), z.array(JobInfo)),
  'jobs.cancel': request(z.object({ jobId: z.string().min(1) }), z.object({ cancelled: z.boolean() })),
} as const;

export const eventChannels = {
  'job.progress': JobProgress,
  'job.finished': z.object({ jobId: z.string(), kind: JobKind, result: EnvelopeSchema }),
  'project.changed': z.object({ project: z.string(), reason: z.string() }),
  'train.progress': TrainProgress,
  'train.epoch': TrainEpochEvent,
} as const;

export type RequestChannels = typeof requestChannels;
export type RequestChannelName = keyof RequestChannels;
export type EventChannels = typeof eventChannels;
export type EventChannelName = keyof EventChannels;

/** What a caller may pass (defaults still optional). */
export type ChannelInput<C extends RequestChannelName> = z.input<RequestChannels[C]['input']>;
/** What a handler receives (defaults applied, validated). */
export type HandlerInput<C extends RequestChannelName> = z.output<RequestChannels[C]['input']>;
export type ChannelOutput<C extends RequestChannelName> = z.output<RequestChannels[C]['output']>;
export type EventPayload<E extends EventChannelName> = z.output<EventChannels[E]>;

export function isRequestChannel(name: string): name is RequestChannelName {
  return Object.hasOwn(requestChannels, name);
}

export function isEventChannel(name: string): name is EventChannelName {
  return Object.hasOwn(eventChannels, name);
}
