/** What every bench prints and writes to bench/results/<name>.json. */
export interface BenchResult {
  name: string;
  figures: Record<string, number | string>;
  goals: Record<string, number | boolean>;
  /** Figures over time, where a bench records them (e.g. Dice per prediction). */
  series?: Record<string, unknown>;
}
