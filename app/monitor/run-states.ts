import type { RunSummary } from '../contract/training.js';

type RunState = RunSummary['state'];

/**
 * A run's state as users read it. The stored names say what the trainer did: `cancelled` is the
 * user's Stop (the run can resume), `stopped` is early stopping (patience ran out).
 */
const LABELS: Record<RunState, string> = {
  running: 'running',
  completed: 'completed',
  stopped: 'stopped early',
  cancelled: 'stopped by you',
  failed: 'failed',
};

export function runStateLabel(state: RunState): string {
  return LABELS[state];
}

/** One sentence on why a run ended where it did, for the badge's title and the status card. */
export function runStateDetail(run: Pick<RunSummary, 'state' | 'epochsDone' | 'config' | 'error'>): string {
  const planned = run.config.settings.epochs;
  switch (run.state) {
    case 'running':
      return `Training: ${run.epochsDone} of ${planned} epochs done.`;
    case 'completed':
      return `Trained all ${planned} epochs.`;
    case 'stopped':
      return `Stopped after ${run.epochsDone} of ${planned} epochs: validation Dice did not improve for ${run.config.settings.patience} epochs.`;
    case 'cancelled':
      return `You stopped it after ${run.epochsDone} of ${planned} epochs; Resume continues from the last epoch.`;
    case 'failed':
      return run.error ? `Failed after ${run.epochsDone} epochs: ${run.error}` : `Failed after ${run.epochsDone} epochs.`;
  }
}

/** Whether Resume can continue the run: it ended before its planned epochs (stopped, failed or early-stopped). */
export function canResume(run: Pick<RunSummary, 'state' | 'epochsDone' | 'config'>): boolean {
  return (run.state === 'cancelled' || run.state === 'failed' || run.state === 'stopped') && run.epochsDone < run.config.settings.epochs;
}
