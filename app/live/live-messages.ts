import { z } from 'zod';
import { ImageRegion } from '../contract/live.js';
import type { WorkerProtocol } from '../jobs/worker-process.js';

/** Messages between the host (LiveService) and the live training process, numbered and validated like the trainer's. */
const seq = z.number().int().min(1);

/** The fields of the host's start message. */
export const LiveStartFields = {
  project: z.string(),
  imageId: z.string().nullable(),
  view: ImageRegion.nullable(),
  predictEveryMs: z.number().positive(),
  patch: z.number().int().positive(),
};

/** What the host sends while the process runs. */
export const LiveControls = [
  /** These images' masks were saved (a debounced batch of strokes): read them again. */
  z.object({ type: z.literal('masks'), seq, imageIds: z.array(z.string()) }),
  /** Predict this image from now on, the part in view first. */
  z.object({ type: z.literal('focus'), seq, imageId: z.string(), view: ImageRegion.nullable() }),
  /** Save the model as a run; answered by `saved` with the same `request`. */
  z.object({ type: z.literal('save'), seq, request: z.number().int() }),
] as const;
export type LiveControl = z.infer<(typeof LiveControls)[number]>;

const LiveMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('status'),
    seq,
    steps: z.number().int(),
    loss: z.number().nullable(),
    labelledPixels: z.number().int(),
    images: z.number().int(),
    tensors: z.number().int(),
    backend: z.string(),
  }),
  z.object({ type: z.literal('prediction'), seq, imageId: z.string(), step: z.number().int(), region: ImageRegion.nullable(), width: z.number().int(), height: z.number().int(), labelsBase64: z.string() }),
  z.object({ type: z.literal('saved'), seq, request: z.number().int(), runId: z.string().nullable(), error: z.string().nullable() }),
]);
export type LiveMessage = z.infer<typeof LiveMessage>;

export const LiveResult = z.object({ steps: z.number().int() });

export const LiveToHost: WorkerProtocol<LiveMessage, z.infer<typeof LiveResult>> = { messages: LiveMessage, result: LiveResult };
