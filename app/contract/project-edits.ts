import { z } from 'zod';
import { IGNORE_LABEL } from './schemas.js';

/** Shapes of the project edits behind the editor's tools: removing a class, the image trash. */

/**
 * What the pixels of a removed class become in every stored mask: unlabelled (255, left out of
 * training), background, or another class (named by its id before the removal).
 */
export const RemovedPixels = z.discriminatedUnion('to', [
  z.object({ to: z.literal('unlabelled') }),
  z.object({ to: z.literal('background') }),
  z.object({ to: z.literal('class'), classId: z.number().int().min(0).max(IGNORE_LABEL - 1) }),
]);
export type RemovedPixels = z.infer<typeof RemovedPixels>;

export const ClassRemovalRequest = z.object({
  project: z.string().min(1),
  classId: z.number().int().min(1).max(IGNORE_LABEL - 1),
  pixels: RemovedPixels,
});
export type ClassRemovalRequest = z.infer<typeof ClassRemovalRequest>;

export const ClassRemovalResult = z.object({
  /** Masks and predictions that held the class or a later one (renumbered) and were rewritten. */
  rewritten: z.number().int(),
});

/** An image deleted from the project while it is open: kept in the project's trash until the project is closed. */
export const TrashedImage = z.object({
  /** Names the trash entry (an image deleted twice under one id has two). */
  key: z.string(),
  id: z.string(),
  originalName: z.string(),
  hadMask: z.boolean(),
  deletedAt: z.string(),
});
export type TrashedImage = z.infer<typeof TrashedImage>;

export const ImageIds = z.object({ project: z.string().min(1), ids: z.array(z.string().min(1)).min(1).max(100_000) });
export const TrashKeys = z.object({ project: z.string().min(1), keys: z.array(z.string().min(1)).min(1).max(100_000) });
