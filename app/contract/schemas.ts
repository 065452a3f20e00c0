import { z } from 'zod';

/** Domain shapes shared by the host and the renderer. Pure zod: this folder never imports Node. */

/**
 * The label of pixels left out of the loss and the metrics (unknown, border, outside the region of
 * interest): painted as "ignore" in the editor, stored as 255 in mask PNGs. Classes are 0 … 254.
 */
export const IGNORE_LABEL = 255;

export const ClassDef = z.object({
  id: z.number().int().min(0).max(IGNORE_LABEL - 1),
  name: z.string().trim().min(1).max(64),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'colour must be #rrggbb'),
});
export type ClassDef = z.infer<typeof ClassDef>;

/** `partial`: a scribble-mode mask, painted in places; its unpainted pixels are unlabelled (255), not background. */
export const ImageStatus = z.enum(['unlabelled', 'partial', 'labelled', 'predicted', 'reviewed']);
export type ImageStatus = z.infer<typeof ImageStatus>;

export const Split = z.enum(['auto', 'train', 'val', 'test']);
export type Split = z.infer<typeof Split>;

export const TiffPages = z.enum(['first', 'all']);
export type TiffPages = z.infer<typeof TiffPages>;

export const MaskMode = z.enum(['auto', 'binary', 'indexed', 'colour', 'palette']);
export type MaskMode = z.infer<typeof MaskMode>;

/**
 * The safe-name rule: what may name a file or folder the app makes from data (image ids, model and run
 * names). Letters, digits, '.', '_' and '-' only, not starting with '.', at most 200 characters: no
 * separator, drive letter or '..' can appear, so such a name never leads out of its folder, on any
 * platform. project.json is untrusted input (projects are shared), so every id and path in it is held
 * to this rule.
 */
export const SAFE_NAME = /^[\p{L}\p{N}_-][\p{L}\p{N}._-]{0,199}$/u;
/** The rule in words, for messages. */
export const SAFE_NAME_RULE = 'letters, digits, ".", "_" and "-", not starting with "."';
export const SafeName = z.string().regex(SAFE_NAME, `must be a plain name: ${SAFE_NAME_RULE}`);

/** Makes a safe name of any text (a file stem, a class name): other characters become '_', leading dots and underscores go. */
export function toSafeName(text: string, fallback: string, maxLength = 100): string {
  return text.normalize('NFC').replace(/[^\p{L}\p{N}._-]+/gu, '_').replace(/^[._]+/, '').slice(0, maxLength) || fallback;
}

/** A path inside the project folder: safe names joined by '/', starting with one of the project's own folders. */
export function projectPath(folder: string) {
  return z
    .string()
    .refine((value) => value.startsWith(`${folder}/`) && value.slice(folder.length + 1).split('/').every((segment) => SAFE_NAME.test(segment)), {
      message: `must be a path inside the project's ${folder}/ folder made of plain names (${SAFE_NAME_RULE})`,
    });
}

export const ImagePrediction = z.object({
  file: projectPath('predictions'),
  /** Mean over pixels of the winning class's probability: sort ascending to review the least sure first. */
  meanConfidence: z.number().min(0).max(1),
  /** The run (or imported model name) that predicted it. */
  runId: z.string(),
  at: z.string(),
});
export type ImagePrediction = z.infer<typeof ImagePrediction>;

export const ImageEntry = z.object({
  id: SafeName,
  /** Path inside the project folder, always with forward slashes. */
  file: projectPath('images'),
  /** Page of a multi-page file this entry stands for (0 for single-page files). */
  page: z.number().int().min(0),
  originalName: z.string(),
  /** SHA-256 of the imported file, so importing the same file again is recognised. */
  contentHash: z.string(),
  format: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  channels: z.number().int().min(1).max(4),
  bitDepth: z.union([z.literal(8), z.literal(16)]),
  status: ImageStatus,
  split: Split,
  tags: z.array(z.string()),
  /** Scribble mode for this image alone (absent: the project's setting, ProjectSettings.scribble). */
  scribble: z.boolean().optional(),
  /** Path of the label-map PNG inside the project, or null while unlabelled. */
  mask: projectPath('masks').nullable(),
  addedAt: z.string(),
  /** The latest model prediction (predictions/<id>.png), kept apart from any human mask. */
  prediction: ImagePrediction.nullable().optional(),
});
export type ImageEntry = z.infer<typeof ImageEntry>;

/** Channels that carry colour or grey values, i.e. all but a trailing alpha channel (grey+alpha: 1, RGBA: 3). */
export function colourChannelCount(channels: number): 1 | 3 {
  return channels <= 2 ? 1 : 3;
}

export const ProjectSettings = z.object({
  /** Decompression-bomb guard: images with more pixels are refused. */
  maxImagePixels: z.number().int().positive(),
  /** Multi-page TIFF import: only the first page, or every page as its own image. */
  tiffPages: TiffPages,
  /** Share of auto-split images used for validation, in percent. */
  validationPercent: z.number().min(0).max(90),
  seed: z.number().int(),
  /**
   * Scribble mode: unpainted pixels are unlabelled (255, left out of training and metrics) rather
   * than background, so a few strokes per class make a valid training image. Absent in older projects.
   */
  scribble: z.boolean().default(false),
});
export type ProjectSettings = z.infer<typeof ProjectSettings>;

export const StatusCounts = z.object({
  images: z.number().int(),
  unlabelled: z.number().int(),
  partial: z.number().int(),
  labelled: z.number().int(),
  predicted: z.number().int(),
  reviewed: z.number().int(),
});
export type StatusCounts = z.infer<typeof StatusCounts>;

export const ProjectSummary = z.object({
  path: z.string(),
  name: z.string(),
  schemaVersion: z.number().int(),
  classes: z.array(ClassDef),
  settings: ProjectSettings,
  counts: StatusCounts,
  /**
   * The model segmentation, predictions and export use unless told otherwise: a run id or the name
   * of an imported model; null = the newest run that has a model.
   */
  modelInUse: z.string().nullable(),
  /** Set when project.json was unreadable and the project was recovered from its backup. */
  recovery: z.object({ from: z.string(), corruptCopy: z.string(), problem: z.string() }).nullable(),
});
export type ProjectSummary = z.infer<typeof ProjectSummary>;

export const MatchRules = z.object({
  /** Mask name = image stem + suffix, e.g. `_mask` pairs car_01.jpg with car_01_mask.gif. */
  maskSuffix: z.string().optional(),
  /** Mask name = prefix + image stem. */
  maskPrefix: z.string().optional(),
  /** Patterns with `{n}` standing for a number, e.g. image `t{n}` and mask `man_seg{n}`. */
  imagePattern: z.string().optional(),
  maskPattern: z.string().optional(),
  roiPattern: z.string().optional(),
});
export type MatchRules = z.infer<typeof MatchRules>;

export const ImportRequest = z.object({
  project: z.string().min(1),
  /** Image files and/or folders. */
  images: z.array(z.string().min(1)).min(1),
  /** Folder of masks; images without a match import as unlabelled. */
  masks: z.string().min(1).optional(),
  /** Folder of region-of-interest masks; outside the region becomes 255 (ignore). */
  roi: z.string().min(1).optional(),
  recursive: z.boolean().default(false),
  maskMode: MaskMode.default('auto'),
  match: MatchRules.default({}),
  tiffPages: TiffPages.optional(),
  /** Overrides the project's pixel limit for this import (for trusted, very large files). */
  maxPixels: z.number().int().positive().optional(),
});
export type ImportRequest = z.output<typeof ImportRequest>;

export const MatchRule = z.enum(['stem', 'affix', 'pattern', 'number', 'none']);
export type MatchRule = z.infer<typeof MatchRule>;

export const PlannedPair = z.object({
  image: z.string(),
  mask: z.string().nullable(),
  roi: z.string().nullable(),
  rule: MatchRule,
});
export type PlannedPair = z.infer<typeof PlannedPair>;

export const FileProblem = z.object({ file: z.string(), code: z.string(), message: z.string() });
export type FileProblem = z.infer<typeof FileProblem>;

export const ImportPlan = z.object({
  pairs: z.array(PlannedPair),
  unmatchedMasks: z.array(z.string()),
  problems: z.array(FileProblem),
});
export type ImportPlan = z.infer<typeof ImportPlan>;

export const ImportReport = z.object({
  imported: z.number().int(),
  /** Files already in the project (same content and page), left as they are. */
  alreadyPresent: z.number().int(),
  /** Images already in the project without a mask that got the one this import found (a mask fixed since). */
  masksAdded: z.number().int(),
  labelled: z.number().int(),
  unlabelled: z.number().int(),
  skipped: z.array(FileProblem),
  warnings: z.array(FileProblem),
  unmatchedMasks: z.array(z.string()),
  durationMs: z.number(),
});
export type ImportReport = z.infer<typeof ImportReport>;

/** What ignore (255) pixels become in exported masks: background (0), or kept as 255. */
export const IgnoreExport = z.enum(['background', 'keep']);
export type IgnoreExport = z.infer<typeof IgnoreExport>;

export const ExportDatasetRequest = z.object({
  project: z.string().min(1),
  out: z.string().min(1),
  split: z.enum(['all', 'train', 'val', 'test']).default('all'),
  /** Appended to each image id in the mask names; '' allowed, never a separator. */
  maskSuffix: z.literal('').or(SafeName.max(50)).default('_mask'),
  /** 3: every image as 8-bit RGB (grey repeated, alpha dropped, 16-bit by the normalisation rule); absent: files as stored. */
  channels: z.literal(3).optional(),
  /** The reference tools number every mask value as a class, so 255 would become one: background by default. */
  ignore: IgnoreExport.default('background'),
});
export type ExportDatasetRequest = z.output<typeof ExportDatasetRequest>;

export const ExportDatasetReport = z.object({
  out: z.string(),
  images: z.number().int(),
  skipped: z.array(FileProblem),
  /** Masks whose ignore (255) pixels were written as background. */
  ignoreToBackground: z.number().int().default(0),
  /** Classes that no exported mask contains (the reference tools would renumber the classes after them). */
  absentClasses: z.array(z.string()).default([]),
});
export type ExportDatasetReport = z.infer<typeof ExportDatasetReport>;

export const JobKind = z.enum(['import', 'import-check', 'export-dataset', 'train', 'segment', 'predict']);
export type JobKind = z.infer<typeof JobKind>;

export const JobState = z.enum(['running', 'succeeded', 'failed', 'cancelled']);
export type JobState = z.infer<typeof JobState>;

export const JobProgress = z.object({
  jobId: z.string(),
  kind: JobKind,
  done: z.number(),
  total: z.number(),
  message: z.string(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const JobInfo = z.object({
  id: z.string(),
  kind: JobKind,
  label: z.string(),
  state: JobState,
  startedAt: z.string(),
  progress: JobProgress.nullable(),
});
export type JobInfo = z.infer<typeof JobInfo>;
