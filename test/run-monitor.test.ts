// The training view's run monitor: its phases over the contract's training events, and chart
// columns that grow in place instead of being copied on every event.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobFinished } from '../app/contract/job-results.js';
import type { EpochRecord, TrainProgress } from '../app/contract/training.js';
import { RunMonitor } from '../app/monitor/run-monitor.js';

const step = (epoch: number, stepNumber: number, loss: number, runId = 'r1'): TrainProgress => ({
  jobId: 'j1', runId, epoch, epochs: 3, step: stepNumber, steps: 2, loss, imagesPerSecond: 4, etaSeconds: 10,
});
const record = (epoch: number, trainLoss: number): EpochRecord => ({
  epoch, trainLoss, valLoss: trainLoss + 0.1, valDice: 0.5 + epoch / 10, valIou: 0.4, pixelAccuracy: 0.9, perClass: [], learningRate: 0.001 / epoch, imagesPerSecond: 4, seconds: 2, numTensors: 50,
});
const finished = (jobId: string, result: unknown) => JobFinished.parse({ jobId, kind: 'train', result });

describe('run monitor', () => {
  it('goes starting → preparing → training → stopping → idle, and names a failure', () => {
    const monitor = new RunMonitor();
    const phases: string[] = [];
    monitor.subscribe(() => phases.push(monitor.phase));
    monitor.startRequested();
    monitor.started('j1', 'r1');
    monitor.progress(step(1, 1, 0.9));
    monitor.stopRequested();
    monitor.progress(step(1, 2, 0.8)); // the step in progress still ends
    monitor.finished(finished('other', { ok: false, error: { code: 'internal', message: 'other job' } }));
    assert.equal(monitor.phase, 'stopping', "another job's end changes nothing");
    monitor.finished(finished('j1', { ok: false, error: { code: 'cancelled', message: 'Cancelled.' } }));
    assert.deepEqual(phases, ['starting', 'preparing', 'training', 'stopping', 'stopping', 'idle']);
    assert.deepEqual([monitor.jobId, monitor.live, monitor.problem], [null, null, null], 'a cancel is no problem');

    monitor.startRequested();
    monitor.startFailed('Nothing to train on: the project has no labelled images.');
    assert.deepEqual([monitor.phase, monitor.problem], ['idle', 'Nothing to train on: the project has no labelled images.']);
    monitor.started('j2', 'r2');
    monitor.finished(finished('j2', { ok: false, error: { code: 'internal', message: 'The trainer process exited with code 134.' } }));
    assert.deepEqual([monitor.phase, monitor.problem], ['idle', 'The trainer process exited with code 134.']);
  });

  it('a job found running when the view opens is attached: Stop works before its first step', () => {
    const monitor = new RunMonitor();
    monitor.attach('j7');
    assert.deepEqual([monitor.phase, monitor.jobId], ['preparing', 'j7']);
    monitor.stopRequested();
    assert.equal(monitor.phase, 'stopping');
    monitor.progress({ ...step(2, 1, 0.5), jobId: 'j7', runId: 'r9' });
    assert.deepEqual([monitor.phase, monitor.runId], ['stopping', 'r9'], 'progress shows its run');
  });

  it('appends steps and epochs to the same chart columns in place, steps and epochs sharing x at epoch ends', () => {
    const monitor = new RunMonitor();
    monitor.started('j1', 'r1');
    const { loss, epochs } = monitor;
    const columns = [loss.x, loss.step, loss.train, loss.val, epochs.epoch, epochs.dice];
    const revisions: number[] = [];
    monitor.subscribe(() => revisions.push(monitor.revision));
    monitor.progress(step(1, 1, 0.9));
    monitor.progress(step(1, 2, 0.7));
    monitor.epoch({ jobId: 'j1', runId: 'r1', record: record(1, 0.75) });
    monitor.progress(step(2, 1, 0.6));
    monitor.epoch({ jobId: 'j1', runId: 'other', record: record(5, 9) }); // another run: not shown
    assert.deepEqual(loss.x, [0.5, 1, 1.5]);
    assert.deepEqual(loss.step, [0.9, 0.7, 0.6]);
    assert.deepEqual(loss.train, [null, 0.75, null]);
    assert.deepEqual(loss.val, [null, 0.85, null]);
    assert.deepEqual(epochs.epoch, [1]);
    assert.deepEqual(epochs.dice, [0.6]);
    assert.equal(monitor.lastEpoch, 1);
    const stillSame = [monitor.loss.x, monitor.loss.step, monitor.loss.train, monitor.loss.val, monitor.epochs.epoch, monitor.epochs.dice];
    stillSame.forEach((column, index) => assert.equal(column, columns[index], 'the same array, grown in place'));
    assert.deepEqual(revisions, [...revisions].sort((a, b) => a - b));
    assert.equal(new Set(revisions).size, revisions.length, 'each change has a new revision');
  });

  it('history of the shown run fills the charts; a repeated epoch (resume) replaces its point; a late answer for another run is ignored', () => {
    const monitor = new RunMonitor();
    monitor.select('r1');
    monitor.history('r1', [record(1, 0.9), record(2, 0.8), record(3, 0.7)]);
    monitor.epoch({ jobId: 'j1', runId: 'r1', record: record(3, 0.65) });
    assert.deepEqual(monitor.epochs.epoch, [1, 2, 3]);
    assert.deepEqual(monitor.loss.train, [0.9, 0.8, 0.65]);
    assert.deepEqual(monitor.records.map((entry) => entry.trainLoss), [0.9, 0.8, 0.65]);
    monitor.select('r2');
    assert.deepEqual([monitor.loss.x, monitor.records], [[], []]);
    monitor.history('r1', [record(1, 0.9)]);
    assert.deepEqual(monitor.epochs.epoch, [], 'the answer for r1 came after r2 was chosen');
  });
});
