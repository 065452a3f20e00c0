import { fileURLToPath } from 'node:url';
import { unwrap } from '../../contract/envelope.js';
import type { ModelExportRequest, ModelExportResult } from '../../contract/model-export.js';
import { superviseWorker, type WorkerLauncher } from '../../jobs/worker-process.js';
import { ExporterToHost } from './exporter-messages.js';

export const EXPORTER_MODULE = fileURLToPath(new URL('./exporter-process.js', import.meta.url));

/** Exports a run's model in its own process and settles with the files it wrote. */
export async function runExporter(launch: WorkerLauncher, request: ModelExportRequest, signal: AbortSignal): Promise<ModelExportResult> {
  const result = await superviseWorker(launch, EXPORTER_MODULE, { request }, ExporterToHost, {
    signal,
    what: 'model export',
    crashHint: 'Each file it wrote is whole (written atomically); export again to write them all.',
  });
  return unwrap(result);
}
