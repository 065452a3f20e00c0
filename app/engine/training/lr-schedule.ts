import type { TrainSettings } from '../../contract/training.js';

/** Mutable state of the schedule, saved in checkpoints so a resumed run continues the same curve. */
export interface ScheduleState {
  /** Multiplier from reduce-on-plateau (1 until the first reduction). */
  plateauFactor: number;
  bestScore: number | null;
  epochsWithoutImprovement: number;
}

export const PLATEAU_PATIENCE = 3;
export const PLATEAU_REDUCTION = 0.5;
const POLY_POWER = 0.9;

export function initialScheduleState(): ScheduleState {
  return { plateauFactor: 1, bestScore: null, epochsWithoutImprovement: 0 };
}

/**
 * The learning rate at a point of training (epochs counted from 0, `progress` in [0,1) within the
 * epoch): linear warm-up, then poly decay (power 0.9) to zero at the last epoch; or constant, scaled
 * by reduce-on-plateau.
 */
export function learningRateAt(settings: Pick<TrainSettings, 'learningRate' | 'schedule' | 'warmupEpochs' | 'epochs'>, state: ScheduleState, epoch: number, progress: number): number {
  const position = epoch + progress;
  const base = settings.learningRate * state.plateauFactor;
  if (position < settings.warmupEpochs) return base * Math.max(0.01, position / settings.warmupEpochs);
  if (settings.schedule !== 'poly') return base;
  const span = Math.max(1, settings.epochs - settings.warmupEpochs);
  return base * Math.pow(Math.max(0, 1 - (position - settings.warmupEpochs) / span), POLY_POWER);
}

/** Reduce-on-plateau bookkeeping after each validation (only the "plateau" schedule reduces). */
export function afterValidation(settings: Pick<TrainSettings, 'schedule'>, state: ScheduleState, score: number | null): ScheduleState {
  if (score === null) return state;
  if (state.bestScore === null || score > state.bestScore) return { ...state, bestScore: score, epochsWithoutImprovement: 0 };
  const stale = state.epochsWithoutImprovement + 1;
  if (settings.schedule === 'plateau' && stale >= PLATEAU_PATIENCE) {
    return { ...state, plateauFactor: state.plateauFactor * PLATEAU_REDUCTION, epochsWithoutImprovement: 0 };
  }
  return { ...state, epochsWithoutImprovement: stale };
}
