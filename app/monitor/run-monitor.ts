import type { JobFinished } from '../contract/job-results.js';
import type { EpochRecord, TrainEpochEvent, TrainProgress } from '../contract/training.js';

/**
 * `idle`: no training job (a run's history may be shown); `starting`: Start was pressed and the
 * host has not answered; `preparing`: the job runs but no step has finished (data, model);
 * `training`: steps are arriving; `stopping`: Stop was pressed, the step in progress ends.
 */
export type MonitorPhase = 'idle' | 'starting' | 'preparing' | 'training' | 'stopping';

/** Chart columns in uPlot's layout (x first, one array per series, null = no point). */
export interface LossColumns {
  x: number[];
  step: Array<number | null>;
  train: Array<number | null>;
  val: Array<number | null>;
}

export interface EpochColumns {
  epoch: number[];
  dice: Array<number | null>;
  iou: Array<number | null>;
  learningRate: number[];
}

/**
 * The training view's run monitor, a state machine over the contract's training events: which run
 * is shown, whether a job is starting, preparing, training or stopping, the latest step, and the
 * chart data. Events append to the chart columns in place (a long run sends thousands of steps,
 * and copying the columns on each would cost quadratic time); `revision` counts the changes so a
 * chart knows when to redraw.
 */
export class RunMonitor {
  phase: MonitorPhase = 'idle';
  jobId: string | null = null;
  /** The run whose history and charts are shown. */
  runId: string | null = null;
  /** The latest step of the running job. */
  live: TrainProgress | null = null;
  problem: string | null = null;
  readonly records: EpochRecord[] = [];
  readonly loss: LossColumns = { x: [], step: [], train: [], val: [] };
  readonly epochs: EpochColumns = { epoch: [], dice: [], iou: [], learningRate: [] };
  revision = 0;
  private readonly listeners = new Set<() => void>();

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Shows another run: its charts start empty until its history arrives. */
  select(runId: string | null): void {
    if (runId === this.runId) return;
    this.runId = runId;
    this.clearCharts();
    this.changed();
  }

  /** A run's recorded epochs (runs.metrics), for the run shown; ignored if another was selected meanwhile. */
  history(runId: string, records: readonly EpochRecord[]): void {
    if (runId !== this.runId) return;
    for (const record of records) this.addRecord(record);
    this.changed();
  }

  /** A training job found running when the view opened. */
  attach(jobId: string): void {
    if (this.jobId === jobId) return;
    this.jobId = jobId;
    if (this.phase === 'idle') this.phase = 'preparing';
    this.changed();
  }

  startRequested(): void {
    this.phase = 'starting';
    this.problem = null;
    this.changed();
  }

  started(jobId: string, runId: string): void {
    this.jobId = jobId;
    this.phase = 'preparing';
    this.live = null;
    this.runId = runId;
    this.clearCharts();
    this.changed();
  }

  startFailed(message: string): void {
    this.phase = this.jobId ? 'preparing' : 'idle';
    this.problem = message;
    this.changed();
  }

  stopRequested(): void {
    if (this.phase === 'idle' || this.phase === 'starting') return;
    this.phase = 'stopping';
    this.changed();
  }

  progress(event: TrainProgress): void {
    this.jobId = event.jobId;
    if (this.phase !== 'stopping') this.phase = 'training';
    if (event.runId !== this.runId) {
      this.runId = event.runId;
      this.clearCharts();
    }
    this.live = event;
    const x = event.epoch - 1 + event.step / Math.max(1, event.steps);
    const at = this.lossRow(x);
    this.loss.step[at] = event.loss;
    this.changed();
  }

  epoch(event: TrainEpochEvent): void {
    if (event.runId !== this.runId) return;
    this.addRecord(event.record);
    this.changed();
  }

  /** A job finished: if it is this monitor's training job, the monitor goes idle (and says why, if it failed). */
  finished(event: JobFinished): void {
    if (event.kind !== 'train' || event.jobId !== this.jobId) return;
    this.jobId = null;
    this.live = null;
    this.phase = 'idle';
    if (!event.result.ok && event.result.error.code !== 'cancelled') this.problem = event.result.error.message;
    this.changed();
  }

  /** The newest epoch recorded for the shown run (0 before the first). */
  get lastEpoch(): number {
    return this.records.at(-1)?.epoch ?? 0;
  }

  private addRecord(record: EpochRecord): void {
    // Epochs come in order; a resumed run may repeat one, which replaces it.
    let index = this.epochs.epoch.length;
    while (index > 0 && this.epochs.epoch[index - 1]! >= record.epoch) index--;
    const replaces = this.epochs.epoch[index] === record.epoch;
    const count = replaces ? 1 : 0;
    this.records.splice(index, count, record);
    this.epochs.epoch.splice(index, count, record.epoch);
    this.epochs.dice.splice(index, count, record.valDice);
    this.epochs.iou.splice(index, count, record.valIou);
    this.epochs.learningRate.splice(index, count, record.learningRate);
    const at = this.lossRow(record.epoch);
    this.loss.train[at] = record.trainLoss;
    this.loss.val[at] = record.valLoss;
  }

  /** The row of x in the loss columns, added in order (at the end, as events arrive, without copying). */
  private lossRow(x: number): number {
    const { loss } = this;
    let index = loss.x.length;
    while (index > 0 && loss.x[index - 1]! > x) index--;
    if (index > 0 && loss.x[index - 1] === x) return index - 1;
    loss.x.splice(index, 0, x);
    loss.step.splice(index, 0, null);
    loss.train.splice(index, 0, null);
    loss.val.splice(index, 0, null);
    return index;
  }

  private clearCharts(): void {
    this.records.length = 0;
    for (const column of [...Object.values(this.loss), ...Object.values(this.epochs)]) column.length = 0;
  }

  private changed(): void {
    this.revision += 1;
    for (const listener of this.listeners) listener();
  }
}
