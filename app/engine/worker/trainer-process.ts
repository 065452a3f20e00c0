// Entry point of the trainer process: one training run per process, so the tfjs backend, its
// memory and any native crash stay away from the host. It talks only through process messages.
import { serveWorkerJob } from '../../jobs/worker-entry.js';
import { Project } from '../../project/project.js';
import { RunFolder } from '../runs/run-store.js';
import { train } from '../training/trainer.js';
import { TrainerStart } from './trainer-messages.js';

serveWorkerJob(TrainerStart, async ({ project: projectPath, runId, resume }, { signal, post }) => {
  const project = await Project.open(projectPath);
  return train({
    project,
    run: await RunFolder.open(project, runId),
    resume,
    signal,
    onStart: (summary) => post({ type: 'started', summary }),
    onStep: (progress) => post({ type: 'step', progress }),
    onEpoch: (record, summary) => post({ type: 'epoch', record, summary }),
  });
});
