// The worker protocol's boundary: what a worker process sends is validated, and what fails is
// reported with its pipe and the zod issue (progress messages) or fails the job with it (results).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Envelope } from '../app/contract/envelope.js';
import type { ProtocolProblem } from '../app/contract/protocol-problems.js';
import { ExportDatasetReport } from '../app/contract/schemas.js';
import { IndexWrites } from '../app/jobs/index-writes.js';
import { forkWorker, superviseWorker } from '../app/jobs/worker-process.js';

const WORKER = fileURLToPath(new URL('./support/off-contract-worker.js', import.meta.url));
const Progress = z.object({ type: z.literal('progress'), seq: z.number(), done: z.number(), total: z.number(), message: z.string() });

async function run(answer: 'off-contract' | 'on-contract') {
  const problems: ProtocolProblem[] = [];
  const progress: string[] = [];
  const result = await superviseWorker(forkWorker, WORKER, { answer }, { messages: Progress, result: ExportDatasetReport }, {
    signal: new AbortController().signal,
    what: 'test',
    crashHint: '',
    onMessage: (message) => progress.push(message.message),
    report: (problem) => problems.push(problem),
  });
  return { result, problems, progress };
}

test('a worker message of the wrong shape is reported with its pipe and the zod issue, and not acted on', async () => {
  const { result, problems, progress } = await run('on-contract');
  assert.deepEqual(result, { ok: true, value: { out: '/tmp/x', images: 2, skipped: [], ignoreToBackground: 0, absentClasses: [] } });
  assert.deepEqual(progress, ['right']);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.channel, 'the test process');
  assert.match(problems[0]!.problem, /expected number, received string\n  → at done/);
});

test("a worker's result that does not match its schema fails the job, saying where", async () => {
  const { result } = await run('off-contract');
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.error.code, 'internal');
  assert.match(!result.ok ? result.error.message : '', /The test process finished with a result that does not match the contract[\s\S]*images/);
});

test("the host applies a worker's index writes in order; the first that fails stops the worker and is the job's error", { timeout: 10_000 }, async () => {
  const job = new AbortController();
  const writes = new IndexWrites(job.signal);
  const done: number[] = [];
  const slow = (n: number) => async () => {
    await new Promise((resolve) => setTimeout(resolve, 5 * (3 - n)));
    done.push(n);
  };
  writes.apply(slow(1));
  writes.apply(slow(2));
  writes.apply(async () => {
    throw new Error('project.json was changed by another program');
  });
  writes.apply(slow(3));
  assert.equal(writes.signal.aborted, false);
  let release = (_value: Envelope<number>) => {};
  const worker = new Promise<Envelope<number>>((resolve) => (release = resolve));
  const settled = writes.settle(worker);
  // The failing write tells the worker to stop. Awaited as an event, not after a fixed time (on a
  // loaded machine the writes' timers run late); if the stop never comes, the test's timeout fails it.
  await new Promise((resolve) => (writes.signal.aborted ? resolve(undefined) : writes.signal.addEventListener('abort', resolve, { once: true })));
  assert.equal(job.signal.aborted, false, 'the job itself is not cancelled');
  release({ ok: false, error: { code: 'cancelled', message: 'Cancelled.' } });
  await assert.rejects(settled, /changed by another program/);
  assert.deepEqual(done, [1, 2], 'in order, and nothing after the failure');

  const fine = new IndexWrites(new AbortController().signal);
  fine.apply(slow(1));
  assert.equal(await fine.settle(Promise.resolve({ ok: true, value: 7 })), 7);
});
