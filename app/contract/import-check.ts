import { z } from 'zod';
import { FileProblem } from './schemas.js';

/**
 * What an import will do with one image (a file, or one page of a multi-page TIFF imported page by
 * page), found by decoding it (and its mask) before anything is copied: imported with its mask,
 * imported without one (none found, or the one found cannot be used), already in the project
 * without a mask and given the one found ('add-mask'), already in the project and left as it is, or
 * skipped.
 */
export const ImportVerdict = z.enum(['labelled', 'unlabelled', 'add-mask', 'present', 'skipped']);
export type ImportVerdict = z.infer<typeof ImportVerdict>;

/** One row of the preview: an image file, or one page of it when its pages become images of their own. */
export const CheckedFile = z.object({
  image: z.string(),
  /** The page (0 = first) when each page of the file becomes an image; null for a file that is one image. */
  page: z.number().int().min(0).nullable(),
  /** The mask paired with it (null: none found, or a file that is not an image at all). */
  mask: z.string().nullable(),
  verdict: ImportVerdict,
  /** Why it is skipped, already present, unlabelled although a mask was found, or given a mask; null otherwise. */
  reason: FileProblem.nullable(),
  /** The id it will get (imported) or has (already in the project); null when skipped. */
  name: z.string().nullable(),
  /** Other files of this import whose names become the same id, and an image already holding it (on a file's first row). */
  sameName: z.array(z.string()),
  /** What the import will warn about for this file (multi-page, file name not UTF-8, ROI ignored, ...; on its first row). */
  notes: z.array(FileProblem),
});
export type CheckedFile = z.infer<typeof CheckedFile>;

/** The import preview: every file's (or page's) verdict, in the order the import takes them. */
export const ImportCheck = z.object({
  files: z.array(CheckedFile),
  unmatchedMasks: z.array(z.string()),
  /** Images the import will add (labelled + unlabelled, pages counted). */
  images: z.number().int().min(0),
  labelled: z.number().int().min(0),
  unlabelled: z.number().int().min(0),
  /** Images already in the project without a mask that the import gives the mask found for them. */
  masksAdded: z.number().int().min(0),
  durationMs: z.number(),
});
export type ImportCheck = z.infer<typeof ImportCheck>;
