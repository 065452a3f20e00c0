import { z } from 'zod';
import { SegmentReport } from '../../contract/segmentation.js';
import { WorkerProgress, type WorkerProtocol } from '../../jobs/worker-process.js';

/** The fields of the host's start message: the SegmentRequest, validated again in the worker. */
export const SegmenterStart = { request: z.unknown() };

/** What the segmenter sends: progress as it goes, then its report (numbered, validated on receipt, like the trainer's). */
export const SegmenterToHost: WorkerProtocol<WorkerProgress, SegmentReport> = { messages: WorkerProgress, result: SegmentReport };
