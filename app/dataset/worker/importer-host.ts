import { fileURLToPath } from 'node:url';
import type { ImportReport, ImportRequest } from '../../contract/schemas.js';
import { runIndexWorker } from '../../jobs/index-writes.js';
import type { WorkerLauncher } from '../../jobs/worker-process.js';
import type { Project } from '../../project/project.js';
import { cleanupWarning, type ImportCallbacks } from '../import-images.js';
import { ImporterToHost } from './importer-messages.js';

export const IMPORTER_MODULE = fileURLToPath(new URL('./importer-process.js', import.meta.url));

/** Imports in its own process; the host adds each batch of new entries to the project's index. */
export async function runImporter(launch: WorkerLauncher, project: Project, request: ImportRequest, callbacks: ImportCallbacks & { signal: AbortSignal }): Promise<ImportReport> {
  const report = await runIndexWorker(launch, IMPORTER_MODULE, { request: { ...request, project: project.root } }, ImporterToHost, {
    ...callbacks,
    claimWrites: () => project.claimWrites(),
    write: (message) => project.addImages(message.entries),
    what: 'import',
    crashHint: 'Images imported before it stopped are kept; import the same folder again to add the rest.',
  });
  const cleanup = project.takeCleanupNotice();
  return cleanup ? { ...report, warnings: [cleanupWarning(project.root, cleanup), ...report.warnings] } : report;
}
