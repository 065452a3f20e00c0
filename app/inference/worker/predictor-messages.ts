import { z } from 'zod';
import { ImagePrediction } from '../../contract/schemas.js';
import { PredictionsReport } from '../../contract/segmentation.js';
import { WorkerProgress, type WorkerProtocol } from '../../jobs/worker-process.js';

/** The fields of the host's start message: the PredictionsRequest, validated again in the worker. */
export const PredictorStart = { request: z.unknown() };

/** predictions/<id>.png is written: the host records it on the image's entry. */
const Predicted = z.object({ type: z.literal('predicted'), seq: z.number().int().min(1), id: z.string(), prediction: ImagePrediction });

/** What the predictor sends: progress and each written prediction as it goes, then its report. */
export const PredictorToHost: WorkerProtocol<WorkerProgress | z.infer<typeof Predicted>, PredictionsReport> = {
  messages: z.discriminatedUnion('type', [WorkerProgress, Predicted]),
  result: PredictionsReport,
};
