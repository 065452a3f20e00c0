import { z } from 'zod';
import { FileProblem } from './schemas.js';

/**
 * What an import will do with one file, found by decoding it (and its mask) before anything is
 * copied: imported with its mask, imported without one (none found, or the one found cannot be
 * used), already in the project, or skipped.
 */
export const ImportVerdict = z.enum(['labelled', 'unlabelled', 'present', 'skipped']);
export type ImportVerdict = z.infer<typeof ImportVerdict>;

export const CheckedFile = z.object({
  image: z.string(),
  /** The mask paired with it (null: none found, or a file that is not an image at all). */
  mask: z.string().nullable(),
  verdict: ImportVerdict,
  /** Why it is skipped, already present, or unlabelled although a mask was found; null otherwise. */
  reason: FileProblem.nullable(),
  /** The id (and stored file name) it will get in the project; null when nothing of it is imported. */
  name: z.string().nullable(),
  /** How many images it adds (a multi-page TIFF with tiffPages "all" adds one per page). */
  images: z.number().int().min(0),
  /** Other files of this import whose names become the same id, and an image already holding it. */
  sameName: z.array(z.string()),
  /** What the import will warn about for this file (multi-page, file name not UTF-8, ROI ignored, ...). */
  notes: z.array(FileProblem),
});
export type CheckedFile = z.infer<typeof CheckedFile>;

/** The import preview: every file's verdict, in the order the import takes them. */
export const ImportCheck = z.object({
  files: z.array(CheckedFile),
  unmatchedMasks: z.array(z.string()),
  /** Images the import will add (labelled + unlabelled, pages counted). */
  images: z.number().int().min(0),
  labelled: z.number().int().min(0),
  unlabelled: z.number().int().min(0),
  durationMs: z.number(),
});
export type ImportCheck = z.infer<typeof ImportCheck>;
