// Entry point of an import preview process: it decodes every image and mask of a folder (sharp and a
// large folder's memory) away from the host, reading the project but writing nothing.
import { ImportRequest } from '../../contract/schemas.js';
import { serveWorkerJob } from '../../jobs/worker-entry.js';
import { Project } from '../../project/project.js';
import { checkImport } from '../check-import.js';
import { CheckerStart } from './checker-messages.js';

serveWorkerJob(CheckerStart, async ({ request }, { signal, post }) => {
  const parsed = ImportRequest.parse(request);
  const project = await Project.open(parsed.project);
  return checkImport(project, parsed, {
    signal,
    onProgress: (done, total, message) => post({ type: 'progress', done, total, message }),
  });
});
