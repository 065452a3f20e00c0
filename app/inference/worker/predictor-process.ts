// Entry point of a project-predictions process: onnxruntime and image decoding stay away from the
// host, which only records each finished prediction on its image's entry (it owns project.json).
import { PredictionsRequest } from '../../contract/segmentation.js';
import { serveWorkerJob } from '../../jobs/worker-entry.js';
import { Project } from '../../project/project.js';
import { predictProject } from '../project-predictions.js';
import { PredictorStart } from './predictor-messages.js';

serveWorkerJob(PredictorStart, async ({ request }, { signal, post }) => {
  const parsed = PredictionsRequest.parse(request);
  return predictProject(await Project.open(parsed.project), parsed, {
    signal,
    onProgress: (done, total, message) => post({ type: 'progress', done, total, message }),
    onPredicted: async (id, prediction) => post({ type: 'predicted', id, prediction }),
  });
});
