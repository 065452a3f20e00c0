import { fileURLToPath } from 'node:url';
import { unwrap } from '../../contract/envelope.js';
import type { SegmentReport, SegmentRequest } from '../../contract/segmentation.js';
import { superviseWorker, type WorkerLauncher } from '../../jobs/worker-process.js';
import { SegmenterToHost } from './segmenter-messages.js';

export const SEGMENTER_MODULE = fileURLToPath(new URL('./segmenter-process.js', import.meta.url));

/** Runs one batch segmentation in its own process and settles with its report. */
export async function runSegmenter(
  launch: WorkerLauncher,
  request: SegmentRequest,
  callbacks: { signal: AbortSignal; onProgress?(done: number, total: number, message: string): void },
): Promise<SegmentReport> {
  const result = await superviseWorker(launch, SEGMENTER_MODULE, { request }, SegmenterToHost, {
    signal: callbacks.signal,
    what: 'segmentation',
    crashHint: 'Finished images are kept; run the same job again to continue where it stopped.',
    onMessage: (message) => {
      if (message.type === 'progress') callbacks.onProgress?.(message.done, message.total, message.message);
    },
  });
  return unwrap(result);
}
