// Entry point of a model-export process: TensorFlow.js (to load the trained model) and the
// conversion stay away from the host. It reads the run and writes only outside the project index.
import { ModelExportRequest } from '../../contract/model-export.js';
import { serveWorkerJob } from '../../jobs/worker-entry.js';
import { Project } from '../../project/project.js';
import { exportModel } from '../export-model.js';
import { ExporterStart } from './exporter-messages.js';

serveWorkerJob(ExporterStart, async ({ request }) => {
  const parsed = ModelExportRequest.parse(request);
  return exportModel(await Project.open(parsed.project), parsed);
});
