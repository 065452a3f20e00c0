// Entry point of the trainer process: one training run per process, so the tfjs backend, its
// memory and any native crash stay away from the host. It talks only through process messages.
import { toContractError } from '../../contract/errors.js';
import { SequencedPort } from '../../contract/sequenced-port.js';
import { fail, ok } from '../../contract/envelope.js';
import { Project } from '../../project/project.js';
import { RunFolder } from '../runs/run-store.js';
import { train } from '../training/trainer.js';
import { HostToTrainer, type TrainerToHost } from './trainer-messages.js';

if (!process.send) throw new Error('trainer-process must be started with an IPC channel (child_process.fork).');

const port = new SequencedPort<HostToTrainer, TrainerToHost>(HostToTrainer, (message) => process.send!(message));
const controller = new AbortController();
let started = false;

process.on('message', (raw) => {
  const message = port.accept(raw);
  if (!message) return;
  if (message.type === 'cancel') controller.abort();
  else if (!started) {
    started = true;
    void run(message.project, message.runId, message.resume);
  }
});
// The host vanished: stop training rather than run on as an orphan.
process.on('disconnect', () => controller.abort());

async function run(projectPath: string, runId: string, resume: boolean): Promise<void> {
  let result;
  try {
    const project = await Project.open(projectPath);
    const runFolder = await RunFolder.open(project, runId);
    const summary = await train({
      project,
      run: runFolder,
      resume,
      signal: controller.signal,
      onStep: (progress) => port.send({ type: 'step', progress }),
      onEpoch: (record, summaryNow) => port.send({ type: 'epoch', record, summary: summaryNow }),
    });
    result = ok(summary);
  } catch (err) {
    result = fail(toContractError(err));
  }
  port.send({ type: 'done', result });
  process.disconnect?.();
}
