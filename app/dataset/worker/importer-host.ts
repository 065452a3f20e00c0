import { fileURLToPath } from 'node:url';
import type { FileProblem, ImportReport, ImportRequest } from '../../contract/schemas.js';
import { runIndexWorker } from '../../jobs/index-writes.js';
import type { WorkerLauncher } from '../../jobs/worker-process.js';
import type { Project } from '../../project/project.js';
import { cleanupWarning, type ImportCallbacks, maskKept } from '../import-images.js';
import { ImporterToHost } from './importer-messages.js';

export const IMPORTER_MODULE = fileURLToPath(new URL('./importer-process.js', import.meta.url));

/** Imports in its own process; the host adds each batch of new entries, and each missing mask, to the project's index. */
export async function runImporter(launch: WorkerLauncher, project: Project, request: ImportRequest, callbacks: ImportCallbacks & { signal: AbortSignal }): Promise<ImportReport> {
  const kept: FileProblem[] = [];
  const report = await runIndexWorker(launch, IMPORTER_MODULE, { request: { ...request, project: project.root } }, ImporterToHost, {
    ...callbacks,
    claimWrites: () => project.claimWrites(),
    write: async (message) => {
      if (message.type === 'images') return project.addImages(message.entries);
      if (!(await project.addMissingMask(message.id, Buffer.from(message.png, 'base64'), message.status))) kept.push(maskKept(project.root, message.id));
    },
    what: 'import',
    crashHint: 'Images imported before it stopped are kept; import the same folder again to add the rest.',
  });
  const cleanup = project.takeCleanupNotice();
  return {
    ...report,
    masksAdded: report.masksAdded - kept.length,
    warnings: [...(cleanup ? [cleanupWarning(project.root, cleanup)] : []), ...report.warnings, ...kept],
  };
}
