import { IGNORE_LABEL } from '../../contract/schemas.js';

/**
 * Per-pixel counts of (true class, predicted class), ignoring pixels labelled 255. Every
 * segmentation metric the studio reports derives from it, so they always agree with each other.
 */
export class ConfusionMatrix {
  readonly counts: Float64Array;

  constructor(readonly classes: number) {
    this.counts = new Float64Array(classes * classes);
  }

  add(truth: ArrayLike<number>, predicted: ArrayLike<number>): void {
    const k = this.classes;
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i]!;
      if (t === IGNORE_LABEL || t >= k) continue;
      this.counts[t * k + predicted[i]!]! += 1;
    }
  }

  private count(truth: number, predicted: number): number {
    return this.counts[truth * this.classes + predicted]!;
  }

  private rowSum(truth: number): number {
    let sum = 0;
    for (let p = 0; p < this.classes; p++) sum += this.count(truth, p);
    return sum;
  }

  private columnSum(predicted: number): number {
    let sum = 0;
    for (let t = 0; t < this.classes; t++) sum += this.count(t, predicted);
    return sum;
  }

  /** Dice = 2|X∩Y| / (|X|+|Y|); a class absent from both truth and prediction scores 1. */
  dice(classId: number): number {
    const overlap = this.count(classId, classId);
    const total = this.rowSum(classId) + this.columnSum(classId);
    return total === 0 ? 1 : (2 * overlap) / total;
  }

  /** IoU = |X∩Y| / |X∪Y|; a class absent from both scores 1. */
  iou(classId: number): number {
    const overlap = this.count(classId, classId);
    const union = this.rowSum(classId) + this.columnSum(classId) - overlap;
    return union === 0 ? 1 : overlap / union;
  }

  /** Pixels counted (labelled, i.e. not 255 = ignore); with none, no metric means anything. */
  labelledPixels(): number {
    return this.counts.reduce((sum, count) => sum + count, 0);
  }

  pixelAccuracy(): number {
    let correct = 0;
    let total = 0;
    for (let t = 0; t < this.classes; t++) {
      correct += this.count(t, t);
      total += this.rowSum(t);
    }
    return total === 0 ? 1 : correct / total;
  }

  /** Means over the foreground classes (1..K-1): background is excluded, as reported everywhere. */
  meanForegroundDice(): number {
    return this.meanOverForeground((id) => this.dice(id));
  }

  meanForegroundIou(): number {
    return this.meanOverForeground((id) => this.iou(id));
  }

  private meanOverForeground(metric: (classId: number) => number): number {
    let sum = 0;
    for (let id = 1; id < this.classes; id++) sum += metric(id);
    return sum / (this.classes - 1);
  }
}
