import { fork } from 'node:child_process';
import type { z } from 'zod';
import { type Envelope } from '../contract/envelope.js';
import { AppError } from '../contract/errors.js';
import { SequencedPort } from '../contract/sequenced-port.js';

/** The host's handle on a worker process: child_process here, Electron's utilityProcess on the desktop. */
export interface WorkerChild {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
  /** The end of what the process wrote to stderr, for crash reports. */
  stderrTail(): string;
}

/** Starts a process running one compiled module of app/ (an absolute file path). */
export type WorkerLauncher = (module: string) => WorkerChild;

const STDERR_KEEP = 4000;
/** A worker that does not stop this long after a cancel is killed (what it finished is on disk). */
const CANCEL_GRACE_MS = 60_000;

export const forkWorker: WorkerLauncher = (module) => {
  const child = fork(module, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_KEEP);
  });
  return {
    post: (message) => {
      if (child.connected) child.send(message as object);
    },
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.on('exit', listener),
    kill: () => child.kill('SIGKILL'),
    stderrTail: () => stderr.trim(),
  };
};

type WorkerMessage = { type: string; seq: number };

/**
 * Runs one job in its own process and settles with the envelope of its `done` message; every other
 * message goes to `onMessage`. Protocol: the host sends {type:'start', ...} and {type:'cancel'};
 * the worker answers with its own messages and a final {type:'done', result}. Cancelling asks the
 * worker to stop; a worker that crashes is reported with its exit status and last error output,
 * and the host carries on.
 */
export function superviseWorker<Out extends WorkerMessage>(
  launch: WorkerLauncher,
  module: string,
  start: Record<string, unknown>,
  incoming: z.ZodType<Out>,
  callbacks: { signal: AbortSignal; onMessage?(message: Out): void; what: string; crashHint: string },
): Promise<Envelope<unknown>> {
  return new Promise((resolve, reject) => {
    const child = launch(module);
    const port = new SequencedPort<Out, WorkerMessage>(incoming, (message) => child.post(message));
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
      if (message.type === 'done') settle(() => resolve((message as unknown as { result: Envelope<unknown> }).result));
      else callbacks.onMessage?.(message);
    });
    child.onExit((code, signal) => {
      settle(() => {
        if (callbacks.signal.aborted) return reject(new AppError('cancelled', 'Cancelled.'));
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        const tail = child.stderrTail();
        reject(new AppError('internal', `The ${callbacks.what} process ${how} before finishing.${tail ? ` Its last output:\n${tail}` : ''} ${callbacks.crashHint}`, { code, signal }));
      });
    });
    port.send({ type: 'start', ...start });
    if (callbacks.signal.aborted) onAbort();
  });
}
