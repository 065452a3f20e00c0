// Entry point of a batch-segmentation process: onnxruntime, sharp and a large folder's memory stay
// away from the host (on the desktop, Electron's main process), which a native crash cannot take down.
import { SegmentRequest } from '../../contract/segmentation.js';
import { serveWorkerJob } from '../../jobs/worker-entry.js';
import { segmentBatch } from '../batch-segment.js';
import { SegmenterStart } from './segmenter-messages.js';

serveWorkerJob(SegmenterStart, async ({ request }, { signal, post }) =>
  segmentBatch(SegmentRequest.parse(request), {
    signal,
    onProgress: (done, total, message) => post({ type: 'progress', done, total, message }),
  }),
);
