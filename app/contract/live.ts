import { z } from 'zod';
import { LabelMapPayload } from './studio.js';

/** Live assist: a small U-Net that trains on the painted pixels while the user paints (app/live). */

/** A rectangle of an image in its pixels: the part of the image in the editor's view. */
export const ImageRegion = z.object({ x: z.number().int().min(0), y: z.number().int().min(0), width: z.number().int().min(1), height: z.number().int().min(1) });
export type ImageRegion = z.infer<typeof ImageRegion>;

export const LiveStartRequest = z.object({
  project: z.string().min(1),
  /** The image in the editor: predicted every few seconds for the overlay. */
  imageId: z.string().min(1).nullable(),
  /** The part of that image in the editor's view: predicted first, then the rest (null: the whole image at once). */
  view: ImageRegion.nullable().default(null),
  /** Stop after this long without a stroke or another image (the editor may have been left open). */
  idleSeconds: z.number().int().min(5).max(86_400).default(600),
  /** Seconds between predictions of the current image. */
  predictEverySeconds: z.number().min(0.5).max(600).default(3),
  /** Square training patch side in pixels (a multiple of 16), cut around painted pixels. */
  patch: z.number().int().min(16).max(512).multipleOf(16).default(64),
});
export type LiveStartRequest = z.output<typeof LiveStartRequest>;

export const LiveSession = z.object({ sessionId: z.string(), pid: z.number().int().nullable() });
export type LiveSession = z.infer<typeof LiveSession>;

export const LiveSessionRef = z.object({ sessionId: z.string().min(1) });

export const LiveState = z.enum(['starting', 'training', 'stopped']);

/** Why a live session ended: switched off, idle, the host closing, the page that started it gone, or a failure. */
export const LiveStopReason = z.enum(['stopped', 'idle', 'closed', 'disconnected', 'failed']);
export type LiveStopReason = z.infer<typeof LiveStopReason>;

/** Where a live session stands; sent every few seconds and when it ends. */
export const LiveStatus = z.object({
  sessionId: z.string(),
  project: z.string(),
  pid: z.number().int().nullable(),
  state: LiveState,
  /** Optimisation steps so far, and the loss of the latest. */
  steps: z.number().int().min(0),
  loss: z.number().nullable(),
  /** Painted (not unlabelled) pixels it trains on, over how many images. */
  labelledPixels: z.number().int().min(0),
  images: z.number().int().min(0),
  /** tf.memory().numTensors in the training process: flat while it runs. */
  tensors: z.number().int().min(0),
  backend: z.string().nullable(),
  reason: LiveStopReason.nullable(),
  error: z.string().nullable(),
});
export type LiveStatus = z.infer<typeof LiveStatus>;

/** The live model's labels for one image (class ids, the image's size), for the editor's overlay. */
export const LivePrediction = z.object({
  sessionId: z.string(),
  project: z.string(),
  imageId: z.string(),
  /** The step whose weights made it. */
  step: z.number().int().min(0),
  /**
   * The part of the image this prediction brought up to date when it is the view's, sent before the
   * rest is predicted (elsewhere the map holds the previous prediction); null when all of it is new.
   */
  region: ImageRegion.nullable(),
  map: LabelMapPayload,
});
export type LivePrediction = z.infer<typeof LivePrediction>;
