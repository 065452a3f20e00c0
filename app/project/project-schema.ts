import { z } from 'zod';
import { ClassDef, ImageEntry, ProjectSettings } from '../contract/schemas.js';
import { DEFAULT_MAX_PIXELS } from '../imaging/pixel-limit.js';

export const CURRENT_SCHEMA_VERSION = 1;

/** The on-disk shape of project.json at the current schema version. */
export const ProjectData = z
  .object({
    schemaVersion: z.literal(CURRENT_SCHEMA_VERSION),
    name: z.string().min(1),
    createdAt: z.string(),
    classes: z.array(ClassDef).min(2),
    settings: ProjectSettings,
    /** See ProjectSummary.modelInUse (absent in projects saved before it existed). */
    modelInUse: z.string().nullable().default(null),
    images: z.array(ImageEntry),
  })
  .superRefine((data, ctx) => {
    data.classes.forEach((cls, index) => {
      if (cls.id !== index) {
        ctx.addIssue({ code: 'custom', path: ['classes', index, 'id'], message: `class ids must be 0, 1, 2, … in order (found ${cls.id} at position ${index})` });
      }
    });
    const seen = new Set<string>();
    data.images.forEach((image, index) => {
      if (seen.has(image.id)) ctx.addIssue({ code: 'custom', path: ['images', index, 'id'], message: `duplicate image id "${image.id}"` });
      seen.add(image.id);
    });
  });
export type ProjectData = z.infer<typeof ProjectData>;

export const DEFAULT_SETTINGS: z.infer<typeof ProjectSettings> = {
  maxImagePixels: DEFAULT_MAX_PIXELS,
  tiffPages: 'first',
  validationPercent: 10,
  seed: 1,
  scribble: false,
};

/** Describes the first schema problem in one line, for error messages that name file and problem. */
export function describeSchemaProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid content';
  const where = issue.path.length ? issue.path.join('.') : 'the top level';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems)` : '';
  return `${where}: ${issue.message}${more}`;
}
