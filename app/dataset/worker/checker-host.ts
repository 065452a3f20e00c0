import { fileURLToPath } from 'node:url';
import { unwrap } from '../../contract/envelope.js';
import type { ImportCheck } from '../../contract/import-check.js';
import type { ImportRequest } from '../../contract/schemas.js';
import { superviseWorker, type WorkerLauncher } from '../../jobs/worker-process.js';
import type { ImportCallbacks } from '../import-images.js';
import { CheckerToHost } from './checker-messages.js';

export const CHECKER_MODULE = fileURLToPath(new URL('./checker-process.js', import.meta.url));

/** Runs the import preview in its own process; cancelling stops it (it has written nothing). */
export async function runImportCheck(launch: WorkerLauncher, request: ImportRequest, callbacks: ImportCallbacks & { signal: AbortSignal }): Promise<ImportCheck> {
  const result = await superviseWorker(launch, CHECKER_MODULE, { request }, CheckerToHost, {
    signal: callbacks.signal,
    onMessage: (message) => callbacks.onProgress?.(message.done, message.total, message.message),
    what: 'import preview',
    crashHint: 'It wrote nothing; start the preview again.',
  });
  return unwrap(result);
}
