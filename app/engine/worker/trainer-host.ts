import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../contract/errors.js';
import { SequencedPort } from '../../contract/sequenced-port.js';
import { unwrap, type Envelope } from '../../contract/envelope.js';
import { RunSummary, type EpochRecord } from '../../contract/training.js';
import type { StepProgress } from '../training/trainer.js';
import { type HostToTrainer, TrainerToHost } from './trainer-messages.js';

/** The host's handle on a trainer process; Electron's utilityProcess will provide another. */
export interface TrainerChild {
  post(message: HostToTrainer): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
  /** The end of what the process wrote to stderr, for crash reports. */
  stderrTail(): string;
}

export type TrainerLauncher = () => TrainerChild;

const TRAINER_ENTRY = fileURLToPath(new URL('./trainer-process.js', import.meta.url));
const STDERR_KEEP = 4000;
/** A trainer that does not stop this long after a cancel is killed (its checkpoint is already on disk). */
const CANCEL_GRACE_MS = 60_000;

export const forkTrainer: TrainerLauncher = () => {
  const child = fork(TRAINER_ENTRY, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_KEEP);
  });
  return {
    post: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.on('exit', listener),
    kill: () => child.kill('SIGKILL'),
    stderrTail: () => stderr.trim(),
  };
};

export interface TrainerCallbacks {
  signal: AbortSignal;
  onStep?(progress: StepProgress): void;
  onEpoch?(record: EpochRecord, summary: RunSummary): void;
}

/**
 * Runs one training run in its own process and settles with its summary. Cancelling asks the
 * trainer to stop after its current step; a trainer that crashes is reported with its exit status
 * and last error output, and the host carries on.
 */
export function runTrainer(launch: TrainerLauncher, start: { project: string; runId: string; resume: boolean }, callbacks: TrainerCallbacks): Promise<RunSummary> {
  return new Promise((resolve, reject) => {
    const child = launch();
    const port = new SequencedPort<TrainerToHost, HostToTrainer>(TrainerToHost, (message) => child.post(message));
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      callbacks.signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = () => {
      port.send({ type: 'cancel' });
      killTimer = setTimeout(() => child.kill(), CANCEL_GRACE_MS);
    };
    callbacks.signal.addEventListener('abort', onAbort, { once: true });

    child.onMessage((raw) => {
      const message = port.accept(raw);
      if (!message) return;
      if (message.type === 'step') callbacks.onStep?.(message.progress);
      else if (message.type === 'epoch') callbacks.onEpoch?.(message.record, message.summary);
      else settle(() => {
        try {
          resolve(RunSummary.parse(unwrap(message.result as Envelope<unknown>)));
        } catch (err) {
          reject(err);
        }
      });
    });
    child.onExit((code, signal) => {
      settle(() => {
        if (callbacks.signal.aborted) return reject(new AppError('cancelled', 'Cancelled.'));
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        const tail = child.stderrTail();
        reject(new AppError('internal', `The trainer process ${how} before finishing.${tail ? ` Its last output:\n${tail}` : ''} The last checkpoint is kept; resume the run to continue.`, { code, signal }));
      });
    });
    port.send({ type: 'start', ...start });
    if (callbacks.signal.aborted) onAbort();
  });
}
