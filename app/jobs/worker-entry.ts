import { z } from 'zod';
import { fail, ok } from '../contract/envelope.js';
import { toContractError } from '../contract/errors.js';
import { SequencedPort } from '../contract/sequenced-port.js';
import { describeFileError } from '../files/file-errors.js';

const seq = z.number().int().min(1);

export interface WorkerContext {
  /** Fires on the host's cancel, or when the host goes away (no orphan keeps working). */
  signal: AbortSignal;
  /** Sends a progress message to the host (numbered like every message). */
  post(message: { type: string } & Record<string, unknown>): void;
}

/**
 * The worker side of superviseWorker (worker-process.ts): waits for {type:'start', ...fields},
 * runs the job once, and ends with {type:'done', result} as an envelope, also when the job
 * throws. One job per process, so a native crash or a leak never reaches the host.
 */
export function serveWorkerJob<Shape extends z.ZodRawShape>(
  startFields: Shape,
  run: (start: z.infer<z.ZodObject<Shape>>, context: WorkerContext) => Promise<unknown>,
): void {
  if (!process.send) throw new Error('A worker module must be started with an IPC channel (child_process.fork or the desktop utility entry).');
  const incoming = z.discriminatedUnion('type', [
    z.object({ type: z.literal('start'), seq }).extend(startFields),
    z.object({ type: z.literal('cancel'), seq }),
  ]);
  type Message = { type: string; seq: number } & Record<string, unknown>;
  const port = new SequencedPort<Message, Message>(
    incoming as unknown as z.ZodType<Message>,
    (message) => process.send!(message),
    'the host (worker side)',
    // stderr: the host quotes its end when the worker fails.
    ({ channel, problem }) => console.error(`Dropped a message from ${channel}: ${problem}`),
  );
  const controller = new AbortController();
  let started = false;
  process.on('message', (raw) => {
    const message = port.accept(raw);
    if (!message) return;
    if (message.type === 'cancel') controller.abort();
    else if (!started) {
      started = true;
      void execute(message as unknown as z.infer<z.ZodObject<Shape>>);
    }
  });
  process.on('disconnect', () => controller.abort());

  async function execute(start: z.infer<z.ZodObject<Shape>>): Promise<void> {
    let result;
    try {
      result = ok(await run(start, { signal: controller.signal, post: (message) => port.send(message) }));
    } catch (err) {
      result = fail(toContractError(describeFileError(err)));
    }
    port.send({ type: 'done', result });
    process.disconnect?.();
  }
}
