import { z } from 'zod';
import { fail, ok } from '../contract/envelope.js';
import { toContractError } from '../contract/errors.js';
import { SequencedPort } from '../contract/sequenced-port.js';
import { describeFileError } from '../files/file-errors.js';

const seq = z.number().int().min(1);

export interface WorkerContext<Control = never> {
  /** Fires on the host's cancel, or when the host goes away (no orphan keeps working). */
  signal: AbortSignal;
  /** Sends a progress message to the host (numbered like every message). */
  post(message: { type: string } & Record<string, unknown>): void;
  /** Takes the host's further messages (those the worker declared), in order; sent before this call, they wait for it. */
  onControl(listener: (message: Control) => void): void;
}

/**
 * The worker side of superviseWorker (worker-process.ts): waits for {type:'start', ...fields},
 * runs the job once, and ends with {type:'done', result} as an envelope, also when the job
 * throws. One job per process, so a native crash or a leak never reaches the host. A worker that the
 * host steers while it runs names the schemas of those messages in `controls` (each an object with
 * its own literal `type` and `seq`).
 */
type ControlSchema = z.ZodObject<{ type: z.ZodLiteral<string>; seq: typeof seq } & z.ZodRawShape>;

export function serveWorkerJob<Shape extends z.ZodRawShape, Controls extends readonly ControlSchema[] = []>(
  startFields: Shape,
  run: (start: z.infer<z.ZodObject<Shape>>, context: WorkerContext<z.infer<Controls[number]>>) => Promise<unknown>,
  controls?: Controls,
): void {
  type Control = z.infer<Controls[number]>;
  if (!process.send) throw new Error('A worker module must be started with an IPC channel (child_process.fork or the desktop utility entry).');
  const incoming = z.discriminatedUnion('type', [
    z.object({ type: z.literal('start'), seq }).extend(startFields),
    z.object({ type: z.literal('cancel'), seq }),
    ...(controls ?? []),
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
  const waiting: Control[] = [];
  let deliver: ((message: Control) => void) | null = null;
  process.on('message', (raw) => {
    const message = port.accept(raw);
    if (!message) return;
    if (message.type === 'cancel') controller.abort();
    else if (message.type !== 'start') {
      if (deliver) deliver(message as unknown as Control);
      else waiting.push(message as unknown as Control);
    } else if (!started) {
      started = true;
      void execute(message as unknown as z.infer<z.ZodObject<Shape>>);
    }
  });
  const onControl = (listener: (message: Control) => void) => {
    deliver = listener;
    for (const message of waiting.splice(0)) listener(message);
  };
  process.on('disconnect', () => controller.abort());

  async function execute(start: z.infer<z.ZodObject<Shape>>): Promise<void> {
    let result;
    try {
      result = ok(await run(start, { signal: controller.signal, post: (message) => port.send(message), onControl }));
    } catch (err) {
      result = fail(toContractError(describeFileError(err)));
    }
    port.send({ type: 'done', result });
    process.disconnect?.();
  }
}
