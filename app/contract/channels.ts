import { z } from 'zod';
import { JobFinished } from './job-results.js';
import {
  ClassDef,
  ExportDatasetRequest,
  ImageEntry,
  ImageStatus,
  ImportRequest,
  JobInfo,
  JobProgress,
  ProjectSummary,
} from './schemas.js';
import { EpochRecord, RunListing, TrainEpochEvent, TrainProgress, TrainRequest } from './training.js';
import { ModelExportRequest, ModelExportResult } from './model-export.js';
import { ImageRegion, LivePrediction, LiveSession, LiveSessionRef, LiveStartRequest, LiveStatus } from './live.js';
import { ClassRemovalRequest, ClassRemovalResult, ImageIds, TrashKeys, TrashedImage } from './project-edits.js';
import { ImportModelRequest, ModelDescription, PredictionsRequest, ProviderReport, SegmentRequest } from './segmentation.js';
import {
  BrowseRequest,
  DemoRequest,
  DemoResult,
  DisplayImage,
  DisplayRegion,
  DisplayRegionRequest,
  ImageSamplesPayload,
  FilePreviewRequest,
  FolderListing,
  ImageRef,
  ImagesUpdateRequest,
  LabelMapPayload,
  MaskPatchRequest,
  MaskPatchResult,
  PresetInfo,
  RecentProject,
  RunSampleRequest,
} from './studio.js';

/** A request channel: the host validates `input` before any service runs; clients validate `output`. */
export interface RequestChannel<I extends z.ZodType, O extends z.ZodType> {
  input: I;
  output: O;
}

function request<I extends z.ZodType, O extends z.ZodType>(input: I, output: O): RequestChannel<I, O> {
  return { input, output };
}

const JobStarted = z.object({ jobId: z.string() });

/** Native dialogs (Electron) or the host's folder browser (browser mode); a cancelled dialog gives null / []. */
const DialogOptions = z.object({ title: z.string().max(200).optional(), defaultPath: z.string().optional() });
const FileFilter = z.object({
  name: z.string().min(1).max(80),
  extensions: z.array(z.string().regex(/^(\*|[A-Za-z0-9]{1,16})$/)).min(1).max(32),
});

/** Editor commands the desktop application menu sends (the renderer binds the same keys itself). */
export const MenuCommand = z.enum([
  'undo',
  'redo',
  'brush.paint',
  'brush.erase',
  'brush.smaller',
  'brush.larger',
  'zoom.fit',
  'zoom.actual',
  'zoom.in',
  'zoom.out',
  'image.next',
  'image.previous',
]);
export type MenuCommand = z.infer<typeof MenuCommand>;

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
  /** Adds a class after the last one (default colour: the next of the palette). Renaming and recolouring go through setClasses. */
  'project.addClass': request(
    z.object({ project: z.string().min(1), name: z.string().trim().min(1).max(64), color: ClassDef.shape.color.optional() }),
    ProjectSummary,
  ),
  /** Removes a class: every mask is rewritten (its pixels become what `pixels` says, later classes move down one), safely against a crash. */
  'project.removeClass': request(ClassRemovalRequest, ClassRemovalResult.extend({ summary: ProjectSummary })),
  /** The model segmentation, predictions and export default to: a run id, an imported model's name, or null. */
  'project.setScribble': request(z.object({ project: z.string().min(1), scribble: z.boolean() }), ProjectSummary),
  'project.setModelInUse': request(z.object({ project: z.string().min(1), model: z.string().min(1).nullable() }), ProjectSummary),
  /** Projects opened lately (on any start page or the desktop menu), newest first. */
  'recent.list': request(z.object({}), z.array(RecentProject)),
  'recent.forget': request(z.object({ path: z.string().min(1) }), z.array(RecentProject)),
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
  'import.start': request(ImportRequest, JobStarted),
  // The import preview that decodes every file (job kind 'import-check'), copying nothing.
  'import.check': request(ImportRequest, JobStarted),
  'dataset.export': request(ExportDatasetRequest, JobStarted),
  'train.start': request(TrainRequest, z.object({ jobId: z.string(), runId: z.string() })),
  'runs.list': request(z.object({ project: z.string().min(1) }), RunListing),
  'runs.metrics': request(z.object({ project: z.string().min(1), runId: z.string().min(1) }), z.array(EpochRecord)),
  'model.export': request(ModelExportRequest, ModelExportResult),
  // Batch segmentation (job kind 'segment'), project predictions (job kind 'predict'), external models.
  'segment.start': request(SegmentRequest, JobStarted),
  'predictions.run': request(PredictionsRequest, JobStarted),
  'models.import': request(ImportModelRequest, z.object({ model: ModelDescription, provider: ProviderReport })),
  'jobs.list': request(z.object({}), z.array(JobInfo)),
  'jobs.cancel': request(z.object({ jobId: z.string().min(1) }), z.object({ cancelled: z.boolean() })),
  'dialog.pickFolder': request(DialogOptions, z.object({ path: z.string().nullable() })),
  'dialog.pickFiles': request(
    DialogOptions.extend({ filters: z.array(FileFilter).max(16).default([]), multiple: z.boolean().default(false) }),
    z.object({ paths: z.array(z.string()) }),
  ),
  'dialog.saveFile': request(DialogOptions.extend({ filters: z.array(FileFilter).max(16).default([]) }), z.object({ path: z.string().nullable() })),
  /**
   * A path the user typed: the host grants it for this session only after its own confirmation (a
   * native dialog on the desktop; in browser mode only paths inside the roots it was started with).
   */
  'fs.grant': request(z.object({ path: z.string().min(1) }), z.object({ path: z.string() })),
  // The studio UI: folder browser (browser mode), demo project, dataset edits, editor data, training form.
  'fs.browse': request(BrowseRequest, FolderListing),
  'fs.preview': request(FilePreviewRequest, z.object({ mime: z.string(), base64: z.string() })),
  'demo.create': request(DemoRequest, DemoResult),
  'images.update': request(ImagesUpdateRequest, z.object({ updated: z.number().int() })),
  'images.display': request(ImageRef, DisplayImage),
  'images.displayRegion': request(DisplayRegionRequest, DisplayRegion),
  'images.samples': request(ImageRef, ImageSamplesPayload),
  'masks.get': request(ImageRef, LabelMapPayload),
  'masks.patch': request(MaskPatchRequest, MaskPatchResult),
  /** The mask at thumbnail size for the dataset grid (the page colours it). */
  'masks.thumbnail': request(ImageRef, LabelMapPayload),
  /** Deletes images: they wait in the project's trash, with their masks, until the project is closed. */
  'images.delete': request(ImageIds, z.object({ trashed: z.array(TrashedImage) })),
  'images.restore': request(TrashKeys, z.object({ restored: z.array(ImageEntry) })),
  'trash.list': request(z.object({ project: z.string().min(1) }), z.array(TrashedImage)),
  'predictions.get': request(ImageRef, LabelMapPayload),
  /** The presets; with a project, `auto` as planned for it. */
  'train.presets': request(z.object({ project: z.string().min(1).optional() }), z.array(PresetInfo)),
  'runs.sample': request(RunSampleRequest, z.object({ mime: z.string(), base64: z.string() })),
  /** Live assist: starts training on the painted pixels in a process of its own (see app/live). */
  'live.start': request(LiveStartRequest, LiveSession),
  /** The editor shows another image, or another part of it (`view`): that is predicted from now on, the view first. */
  'live.focus': request(LiveSessionRef.extend({ imageId: z.string().min(1), view: ImageRegion.nullable().default(null) }), z.object({ ok: z.boolean() })),
  'live.stop': request(LiveSessionRef, z.object({ stopped: z.boolean() })),
  /** Saves the live model as a finished training run (usable for segmentation and export). */
  'live.save': request(LiveSessionRef, z.object({ runId: z.string() })),
} as const;

export const eventChannels = {
  'job.progress': JobProgress,
  'job.finished': JobFinished,
  'project.changed': z.object({ project: z.string(), reason: z.string() }),
  'train.progress': TrainProgress,
  'train.epoch': TrainEpochEvent,
  'live.status': LiveStatus,
  'live.prediction': LivePrediction,
  /** Desktop: an application-menu command for the editor. */
  'menu.command': z.object({ command: MenuCommand }),
  /** Desktop: open this project (command line, second instance, recent-projects menu, File > Open). */
  'project.openRequested': z.object({ path: z.string() }),
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

