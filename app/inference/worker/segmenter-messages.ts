import { z } from 'zod';
import { SegmentReport } from '../../contract/segmentation.js';
import type { WorkerProtocol } from '../../jobs/worker-process.js';

/** Messages of the segmentation worker (numbered, validated on receipt, like the trainer's). */
const seq = z.number().int().min(1);

/** The fields of the host's start message: the SegmentRequest, validated again in the worker. */
export const SegmenterStart = { request: z.unknown() };

const SegmenterProgress = z.object({ type: z.literal('progress'), seq, done: z.number(), total: z.number(), message: z.string() });

/** What the segmenter sends: progress as it goes, then its report. */
export const SegmenterToHost: WorkerProtocol<z.infer<typeof SegmenterProgress>, SegmentReport> = { messages: SegmenterProgress, result: SegmentReport };
