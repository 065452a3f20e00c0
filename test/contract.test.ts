import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContractClient } from '../app/contract/client.js';
import { EventBus } from '../app/contract/event-bus.js';
import { createMemoryTransportPair } from '../app/contract/memory-transport.js';
import type { ProtocolProblem, ProblemReporter } from '../app/contract/protocol-problems.js';
import { JobFinished, jobOutcome } from '../app/contract/job-results.js';
import { HandlerRegistry } from '../app/contract/registry.js';
import { serveContract } from '../app/contract/server.js';
import { sequencedChannel } from '../app/contract/wire.js';

function connect(registry: HandlerRegistry, report?: ProblemReporter) {
  const events = new EventBus();
  const [clientEnd, serverEnd] = createMemoryTransportPair();
  serveContract(registry, serverEnd, events);
  return { client: new ContractClient(clientEnd, report), events, clientEnd, serverEnd };
}

test('an invalid payload is refused before the service runs', async () => {
  let calls = 0;
  const registry = new HandlerRegistry().register('jobs.cancel', async () => {
    calls += 1;
    return { cancelled: true };
  });
  const result = await registry.dispatch('jobs.cancel', { jobId: 42 }, { signal: new AbortController().signal });
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.error.code, 'invalid_input');
  assert.match(!result.ok ? result.error.message : '', /jobId/);
  assert.equal(calls, 0);

  const { client } = connect(registry);
  // A caller that bypasses the types (a compromised renderer, say) gets the same refusal over the wire.
  const overWire = await client.invoke('jobs.cancel', { jobId: '' });
  assert.equal(!overWire.ok && overWire.error.code, 'invalid_input');
  assert.equal(calls, 0);
});

test('unknown channels and channels without a handler get error envelopes', async () => {
  const registry = new HandlerRegistry();
  const signal = new AbortController().signal;
  const unknown = await registry.dispatch('fs.readFile', { path: '/etc/passwd' }, { signal });
  assert.deepEqual(unknown.ok ? null : unknown.error.code, 'unknown_channel');
  const unhandled = await registry.dispatch('jobs.list', {}, { signal });
  assert.deepEqual(unhandled.ok ? null : unhandled.error.code, 'unknown_channel');
});

test('a throwing service becomes an error envelope and the host keeps serving', async () => {
  let fail = true;
  const registry = new HandlerRegistry().register('jobs.list', async () => {
    if (fail) throw new Error('disk on fire');
    return [];
  });
  const { client } = connect(registry);
  const first = await client.invoke('jobs.list', {});
  assert.deepEqual(first, { ok: false, error: { code: 'internal', message: 'disk on fire' } });
  fail = false;
  assert.deepEqual(await client.invoke('jobs.list', {}), { ok: true, value: [] });
});

test('cancelling a request crosses the transport and aborts the service', async () => {
  let aborted: () => void = () => undefined;
  const serviceSawAbort = new Promise<void>((resolve) => (aborted = resolve));
  const registry = new HandlerRegistry().register('jobs.list', ({}, { signal }) => {
    return new Promise((_, reject) => {
      signal.addEventListener('abort', () => {
        aborted();
        reject(Object.assign(new Error('stopped'), { name: 'AbortError' }));
      });
    });
  });
  const { client } = connect(registry);
  const controller = new AbortController();
  const pending = client.invoke('jobs.list', {}, { signal: controller.signal });
  await new Promise((resolve) => setTimeout(resolve, 10));
  controller.abort();
  const result = await pending;
  assert.equal(!result.ok && result.error.code, 'cancelled');
  await serviceSawAbort;
});

test('closing the connection aborts requests still running', async () => {
  let sawAbort = false;
  const registry = new HandlerRegistry().register('jobs.list', ({}, { signal }) => {
    return new Promise((resolve) => signal.addEventListener('abort', () => {
      sawAbort = true;
      resolve([]);
    }));
  });
  const { client } = connect(registry);
  const pending = client.invoke('jobs.list', {});
  await new Promise((resolve) => setTimeout(resolve, 10));
  client.close();
  const result = await pending;
  assert.equal(!result.ok && result.error.code, 'io_error');
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(sawAbort, true);
});

test('events reach subscribers and are validated against their schema; a refused one is reported', async () => {
  const problems: ProtocolProblem[] = [];
  const { client, events } = connect(new HandlerRegistry(), (problem) => problems.push(problem));
  const received: unknown[] = [];
  client.on('project.changed', (payload) => received.push(payload));
  events.emit('project.changed', { project: '/p', reason: 'import' });
  // A payload that does not match the schema is not delivered: it is reported with its channel and the zod issue.
  events.emit('project.changed', { project: 7 } as never);
  events.emit('job.finished', { jobId: 'j1', kind: 'import', result: { ok: true, value: { imported: 'three' } } } as never);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(received, [{ project: '/p', reason: 'import' }]);
  assert.deepEqual(problems.map((problem) => problem.channel), ['project.changed', 'job.finished']);
  assert.match(problems[0]!.problem, /expected string, received number\n  → at project/);
  assert.match(problems[1]!.problem, /result\.value\.imported/);
});

test('the client refuses responses that do not match the output schema', async () => {
  const registry = new HandlerRegistry().register('jobs.cancel', async () => ({ cancelled: 'yes' }) as never);
  const { client } = connect(registry);
  const result = await client.invoke('jobs.cancel', { jobId: 'x' });
  assert.equal(!result.ok && result.error.code, 'internal');
  assert.match(!result.ok ? result.error.message : '', /does not match the contract/);
});

test('sequence numbers: replayed and malformed messages are refused and reported', () => {
  const [a] = createMemoryTransportPair();
  const problems: ProtocolProblem[] = [];
  const channel = sequencedChannel(a, 'test pipe', (problem) => problems.push(problem));
  const request = { kind: 'request', id: 'r1', channel: 'jobs.list', payload: {} };
  assert.ok(channel.accept({ ...request, seq: 1 }));
  assert.equal(channel.accept({ ...request, seq: 1 }), null, 'replay');
  assert.equal(channel.accept({ kind: 'nonsense', seq: 5 }), null, 'malformed');
  assert.ok(channel.accept({ ...request, seq: 2 }));
  assert.deepEqual(problems.map((problem) => problem.channel), ['test pipe', 'test pipe']);
  assert.match(problems[0]!.problem, /message 1 arrived after message 1/);
  assert.match(problems[1]!.problem, /does not match the contract/);
});

test("a job's outcome is its kind's result: another kind's job id or an off-contract value is an error, not a cast", () => {
  const report = { out: '/o', images: 2, skipped: [], ignoreToBackground: 0, absentClasses: [] };
  const finished = JobFinished.parse({ jobId: 'j1', kind: 'export-dataset', result: { ok: true, value: report } });
  const outcome = jobOutcome('export-dataset', finished);
  assert.deepEqual(outcome, { ok: true, value: report });
  const wrongKind = jobOutcome('import', finished);
  assert.equal(!wrongKind.ok && wrongKind.error.message, 'Job j1 is of kind "export-dataset", not "import".');
  assert.equal(JobFinished.safeParse({ jobId: 'j2', kind: 'export-dataset', result: { ok: true, value: { out: 3 } } }).success, false);
  const failed = JobFinished.parse({ jobId: 'j3', kind: 'train', result: { ok: false, error: { code: 'cancelled', message: 'Cancelled.' } } });
  assert.deepEqual(jobOutcome('train', failed), { ok: false, error: { code: 'cancelled', message: 'Cancelled.' } });
});
