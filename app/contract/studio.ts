import { z } from 'zod';
import { ImageEntry, Split } from './schemas.js';
import { ModelConfig, PresetChoice, PresetName, TrainSettings } from './training.js';

/** Shapes of the channels behind the studio UI: folder browser, demo, editor data, presets. */

/** A project opened lately, newest first (the start page and the desktop's File › Open Recent). */
export const RecentProject = z.object({ path: z.string(), name: z.string(), openedAt: z.string() });
export type RecentProject = z.infer<typeof RecentProject>;

export const FolderEntry = z.object({
  name: z.string(),
  kind: z.enum(['folder', 'file']),
  /** Bytes for files, null for folders. */
  size: z.number().int().nullable(),
});
export type FolderEntry = z.infer<typeof FolderEntry>;

export const BrowseRequest = z.object({
  /** Absolute folder; default: the user's home. */
  path: z.string().min(1).optional(),
  /** An open project whose folder may be browsed besides the home folder. */
  project: z.string().min(1).optional(),
  /** List dot-files and dot-folders too. */
  hidden: z.boolean().default(false),
});

export const FolderListing = z.object({
  path: z.string(),
  /** The folder above, or null at the top of an allowed root. */
  parent: z.string().nullable(),
  /** Where browsing may go: the home folder and the open project. */
  roots: z.array(z.object({ label: z.string(), path: z.string() })),
  entries: z.array(FolderEntry),
  /** True when the folder held more entries than were listed. */
  truncated: z.boolean(),
});
export type FolderListing = z.infer<typeof FolderListing>;

export const DemoRequest = z.object({
  /** Folder to create (must not exist or be empty); default: a new folder in the temp directory. */
  folder: z.string().min(1).optional(),
  count: z.number().int().min(2).max(1000).default(24),
  size: z.number().int().min(32).max(1024).default(128),
  classes: z.union([z.literal(2), z.literal(3)]).default(2),
  seed: z.number().int().min(0).max(2 ** 31).default(1),
});
export type DemoRequest = z.output<typeof DemoRequest>;

export const DemoResult = z.object({
  folder: z.string(),
  project: z.string(),
  /** Unlabelled synthetic images to try batch segmentation on. */
  newImages: z.string(),
  labelled: z.number().int(),
});
export type DemoResult = z.infer<typeof DemoResult>;

export const ImagesUpdateRequest = z.object({
  project: z.string().min(1),
  ids: z.array(z.string().min(1)).min(1).max(100_000),
  split: Split.optional(),
  /** Scribble mode for these images (see ImageEntry.scribble). */
  scribble: z.boolean().optional(),
  addTags: z.array(z.string().trim().min(1).max(64)).max(64).default([]),
  removeTags: z.array(z.string().trim().min(1).max(64)).max(64).default([]),
});
export type ImagesUpdateRequest = z.output<typeof ImagesUpdateRequest>;

export const ImageRef = z.object({ project: z.string().min(1), id: z.string().min(1) });

export const DisplayImage = z.object({
  mime: z.string(),
  base64: z.string(),
  /** The image's full size (the display image has the same size). */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});
export type DisplayImage = z.infer<typeof DisplayImage>;

/**
 * Part of the image for the editor's progressive open: `region` (image pixels; default the whole
 * image) scaled down to fit `maxSide` when given. A downscaled whole image comes first, then
 * full-resolution tiles of the view.
 */
export const DisplayRegionRequest = ImageRef.extend({
  region: z
    .object({ x: z.number().int().min(0), y: z.number().int().min(0), width: z.number().int().positive(), height: z.number().int().positive() })
    .optional(),
  maxSide: z.number().int().min(16).max(16384).optional(),
});
export type DisplayRegionRequest = z.output<typeof DisplayRegionRequest>;

export const DisplayRegion = z.object({
  mime: z.string(),
  base64: z.string(),
  /** The encoded picture's size (smaller than the region when scaled down). */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** The region it shows, and the whole image's size, in image pixels. */
  region: z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int().positive(), height: z.number().int().positive() }),
  imageWidth: z.number().int().positive(),
  imageHeight: z.number().int().positive(),
});
export type DisplayRegion = z.infer<typeof DisplayRegion>;

/**
 * An image's stored colour values (alpha dropped), for the editor's contrast limits and cursor
 * readout on true values: interleaved, little-endian 16-bit for 16-bit images, deflated.
 */
export const ImageSamplesPayload = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  channels: z.union([z.literal(1), z.literal(3)]),
  bitDepth: z.union([z.literal(8), z.literal(16)]),
  encoding: z.literal('deflate'),
  base64: z.string(),
  /** The stored values the training normalisation maps to 0 and 1: what the display image shows as black and white. */
  displayLow: z.number().int().min(0),
  displayHigh: z.number().int().min(0),
});
export type ImageSamplesPayload = z.infer<typeof ImageSamplesPayload>;

/** How label bytes travel: raw, or zlib-deflated (browsers inflate with DecompressionStream('deflate')). */
export const LabelEncoding = z.enum(['raw', 'deflate']);
export type LabelEncoding = z.infer<typeof LabelEncoding>;

export const LabelMapPayload = z.object({
  /** False when the image has no stored mask (or prediction) yet; then `base64` is empty. */
  exists: z.boolean(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  encoding: LabelEncoding,
  /** width*height class ids, row-major, after decoding. */
  base64: z.string(),
});
export type LabelMapPayload = z.infer<typeof LabelMapPayload>;

export const TilePatch = z.object({
  x: z.number().int().min(0),
  y: z.number().int().min(0),
  width: z.number().int().min(1).max(4096),
  height: z.number().int().min(1).max(4096),
  encoding: LabelEncoding.default('raw'),
  labelsBase64: z.string(),
});
export type TilePatch = z.output<typeof TilePatch>;

export const MaskPatchRequest = ImageRef.extend({ tiles: z.array(TilePatch).min(1).max(4096) });
export type MaskPatchRequest = z.output<typeof MaskPatchRequest>;

export const MaskPatchResult = z.object({ image: ImageEntry, tiles: z.number().int() });

export const PresetInfo = z.object({
  name: PresetName,
  description: z.string(),
  model: ModelConfig.pick({ base: true, upsampling: true }),
  settings: TrainSettings.omit({ seed: true, backend: true, validationPercent: true, classWeights: true, cacheMiB: true, threads: true }),
  /** For `auto`: what it chose for the project and why (empty without a project, and for the fixed presets). */
  choices: z.array(PresetChoice).default([]),
});
export type PresetInfo = z.infer<typeof PresetInfo>;

export const RunSampleRequest = z.object({ project: z.string().min(1), runId: z.string().min(1), epoch: z.number().int().min(1) });

/** A small preview of an image file on the host (segmentation results), inside the folder browser's roots. */
export const FilePreviewRequest = z.object({
  path: z.string().min(1),
  project: z.string().min(1).optional(),
  maxSide: z.number().int().min(16).max(1024).default(256),
});
