import { fork } from 'node:child_process';
import { z } from 'zod';
import { type Envelope, EnvelopeSchema, fail, ok } from '../contract/envelope.js';
import { AppError } from '../contract/errors.js';
import type { ProblemReporter } from '../contract/protocol-problems.js';
import { SequencedPort } from '../contract/sequenced-port.js';

/** The host's handle on a worker process: child_process here, Electron's utilityProcess on the desktop. */
export interface WorkerChild {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
  /** The process id (null where the launcher cannot tell), e.g. to check that a worker has ended. */
  pid(): number | null;
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
    pid: () => child.pid ?? null,
    stderrTail: () => stderr.trim(),
  };
};

type WorkerMessage = { type: string; seq: number };
/** The worker's last message; its result is checked against the protocol's schema on arrival. */
const DoneMessage = z.object({ type: z.literal('done'), seq: z.number().int().min(1), result: EnvelopeSchema });
type DoneMessage = z.infer<typeof DoneMessage>;

/** The progress message every worker may send ({type:'progress', done, total, message}). */
export const WorkerProgress = z.object({ type: z.literal('progress'), seq: z.number().int().min(1), done: z.number(), total: z.number(), message: z.string() });
export type WorkerProgress = z.infer<typeof WorkerProgress>;

/** What a worker may send: its own progress messages, then one `done` with its job's result. */
export interface WorkerProtocol<Progress extends WorkerMessage, R> {
  /**
   * What the worker sends before it is done (none for a worker that only answers): an object or a
   * discriminated union on `type`, so a refused message is described by its own schema.
   */
  messages?: z.ZodType<Progress> & z.core.$ZodTypeDiscriminable;
  result: z.ZodType<R>;
}

function isDone(message: WorkerMessage): message is DoneMessage {
  return message.type === 'done';
}

/** The job's envelope from a `done` message, or an error naming the worker when its value is off-contract. */
function checkedResult<R>(what: string, schema: z.ZodType<R>, result: DoneMessage['result']): Envelope<R> {
  if (!result.ok) return result;
  const parsed = schema.safeParse(result.value);
  if (parsed.success) return ok(parsed.data);
  return fail({ code: 'internal', message: `The ${what} process finished with a result that does not match the contract: ${z.prettifyError(parsed.error)}` });
}

/**
 * Runs one job in its own process and settles with the envelope of its `done` message; every other
 * message goes to `onMessage`. Protocol: the host sends {type:'start', ...} and {type:'cancel'};
 * the worker answers with its own messages and a final {type:'done', result}, each checked against
 * the protocol's schemas (a message that fails is reported, not acted on). Cancelling asks the
 * worker to stop; a worker that crashes is reported with its exit status and last error output, and
 * the host carries on.
 */
export function superviseWorker<Progress extends WorkerMessage, R>(
  launch: WorkerLauncher,
  module: string,
  start: Record<string, unknown>,
  protocol: WorkerProtocol<Progress, R>,
  callbacks: {
    signal: AbortSignal;
    onMessage?(message: Progress): void;
    what: string;
    crashHint: string;
    /** Where refused messages are reported (default: the console). */
    report?: ProblemReporter;
    /**
     * Called once the start message is sent, with the process's id and a way to send it more
     * messages (a long-lived worker steered while it runs; numbered like every message).
     */
    connected?(worker: { pid: number | null; send(message: { type: string } & Record<string, unknown>): void }): void;
  },
): Promise<Envelope<R>> {
  return new Promise((resolve, reject) => {
    const child = launch(module);
    const incoming = protocol.messages ? z.discriminatedUnion('type', [protocol.messages, DoneMessage]) : DoneMessage;
    const port = new SequencedPort<Progress | DoneMessage, WorkerMessage>(incoming, (message) => child.post(message), `the ${callbacks.what} process`, callbacks.report);
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
      if (isDone(message)) settle(() => resolve(checkedResult(callbacks.what, protocol.result, message.result)));
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
    callbacks.connected?.({ pid: child.pid(), send: (message) => port.send(message) });
    if (callbacks.signal.aborted) onAbort();
  });
}
