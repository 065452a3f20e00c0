import type { EventBus } from '../contract/event-bus.js';
import type { TrainRequest, TrainProgress } from '../contract/training.js';
import type { JobManager } from '../jobs/job-manager.js';
import { ProgressThrottle } from '../jobs/progress-throttle.js';
import type { OpenProjects } from '../project/open-projects.js';
import { RunFolder } from './runs/run-store.js';
import { prepareRun } from './training/prepare-run.js';
import { forkWorker, type WorkerLauncher } from '../jobs/worker-process.js';
import { runTrainer } from './worker/trainer-host.js';

/** "Click Train": each run is a job whose work happens in its own trainer process. */
export class TrainingService {
  constructor(
    private readonly jobs: JobManager,
    private readonly events: EventBus,
    private readonly projects: OpenProjects,
    private readonly launch: WorkerLauncher = forkWorker,
  ) {}

  async start(request: TrainRequest): Promise<{ jobId: string; runId: string }> {
    const project = await this.projects.get(request.project);
    const { run, resume } = await prepareRun(project, request);
    const job = this.jobs.start('train', `${resume ? 'Resume' : 'Train'} ${run.id} on ${project.name}`, ({ signal, progress }) => {
      const steps = new ProgressThrottle<TrainProgress>((event) => this.events.emit('train.progress', event), 250);
      return runTrainer(this.launch, { project: project.root, runId: run.id, resume }, {
        signal,
        onStep: (step) => {
          steps.report({ jobId: job.id, runId: run.id, ...step });
          progress((step.epoch - 1) * step.steps + step.step, step.epochs * step.steps, `epoch ${step.epoch}/${step.epochs}`);
        },
        onEpoch: (record) => {
          steps.flush();
          this.events.emit('train.epoch', { jobId: job.id, runId: run.id, record });
        },
      });
    });
    return { jobId: job.id, runId: run.id };
  }

  async runs(projectPath: string) {
    return RunFolder.list(await this.projects.get(projectPath));
  }

  async metrics(projectPath: string, runId: string) {
    return (await RunFolder.open(await this.projects.get(projectPath), runId)).readMetrics();
  }
}
