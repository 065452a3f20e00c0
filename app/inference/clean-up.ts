import type { LabelMap } from '../masks/label-map.js';

export interface CleanUpOptions {
  fillHoles: boolean;
  minObjectPixels: number;
  /** Connectivity of objects (4 or 8); background regions (holes) use the other one. */
  connectivity: 4 | 8;
}

/**
 * Post-processing of a predicted label map, in place: fills background regions that do not touch the
 * image border (holes) with the class around them, then turns objects (connected pixels of one
 * non-background class) smaller than `minObjectPixels` into background. Works on runs of equal labels
 * per row with union-find, so memory follows the number of runs, not of pixels.
 */
export function cleanUpLabels(map: LabelMap, options: CleanUpOptions): void {
  const connectivityOf = (label: number): 4 | 8 => (label !== 0 ? options.connectivity : options.connectivity === 8 ? 4 : 8);
  if (options.fillHoles) {
    const runs = connectedRuns(map, connectivityOf);
    const holes = runs.components().filter((component) => component.label === 0 && !component.touchesBorder && component.neighbourLabel > 0);
    runs.paint(new Map(holes.map((hole) => [hole.root, hole.neighbourLabel])));
  }
  if (options.minObjectPixels > 0) {
    const runs = connectedRuns(map, connectivityOf);
    const small = runs.components().filter((component) => component.label !== 0 && component.pixels < options.minObjectPixels);
    runs.paint(new Map(small.map((object) => [object.root, 0])));
  }
}

interface Component {
  root: number;
  label: number;
  pixels: number;
  touchesBorder: boolean;
  /** A class adjacent to this component (the first one met), or -1. */
  neighbourLabel: number;
}

function connectedRuns(map: LabelMap, connectivityOf: (label: number) => 4 | 8) {
  const { width, height, labels } = map;
  const rowStart: number[] = [];
  const runY: number[] = [];
  const runX0: number[] = [];
  const runX1: number[] = []; // exclusive
  const runLabel: number[] = [];
  for (let y = 0; y < height; y++) {
    rowStart.push(runY.length);
    let x = 0;
    while (x < width) {
      const label = labels[y * width + x]!;
      let end = x + 1;
      while (end < width && labels[y * width + end] === label) end++;
      runY.push(y);
      runX0.push(x);
      runX1.push(end);
      runLabel.push(label);
      x = end;
    }
  }
  rowStart.push(runY.length);
  const count = runY.length;
  const parent = Int32Array.from({ length: count }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const neighbour = new Int32Array(count).fill(-1);
  const meet = (a: number, b: number) => {
    if (runLabel[a] === runLabel[b]) {
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) parent[ra] = rb;
    } else {
      if (neighbour[a] === -1) neighbour[a] = runLabel[b]!;
      if (neighbour[b] === -1) neighbour[b] = runLabel[a]!;
    }
  };
  for (let y = 0; y < height; y++) {
    for (let r = rowStart[y]!; r < rowStart[y + 1]! - 1; r++) meet(r, r + 1);
    if (y === 0) continue;
    let above = rowStart[y - 1]!;
    for (let r = rowStart[y]!; r < rowStart[y + 1]!; r++) {
      // Runs above overlapping this one (diagonal contact counts for 8-connected labels).
      while (above < rowStart[y]! && runX1[above]! < runX0[r]!) above++;
      for (let a = above; a < rowStart[y]! && runX0[a]! <= runX1[r]!; a++) {
        const overlaps = runX0[a]! < runX1[r]! && runX1[a]! > runX0[r]!;
        const diagonal = !overlaps && (runX1[a] === runX0[r] || runX0[a] === runX1[r]);
        if (overlaps) meet(a, r);
        else if (diagonal && runLabel[a] === runLabel[r] && connectivityOf(runLabel[r]!) === 8) meet(a, r);
        else if (diagonal && runLabel[a] !== runLabel[r]) meet(a, r); // touching at a corner: neighbours only
      }
    }
  }
  return {
    components(): Component[] {
      const byRoot = new Map<number, Component>();
      for (let r = 0; r < count; r++) {
        const root = find(r);
        let component = byRoot.get(root);
        if (!component) byRoot.set(root, (component = { root, label: runLabel[r]!, pixels: 0, touchesBorder: false, neighbourLabel: -1 }));
        component.pixels += runX1[r]! - runX0[r]!;
        if (runY[r] === 0 || runY[r] === height - 1 || runX0[r] === 0 || runX1[r] === width) component.touchesBorder = true;
        if (component.neighbourLabel === -1 && neighbour[r]! !== -1) component.neighbourLabel = neighbour[r]!;
      }
      return [...byRoot.values()];
    },
    /** Relabels components (by root) in one pass over the runs. */
    paint(relabel: ReadonlyMap<number, number>): void {
      if (relabel.size === 0) return;
      for (let r = 0; r < count; r++) {
        const label = relabel.get(find(r));
        if (label !== undefined) labels.fill(label, runY[r]! * width + runX0[r]!, runY[r]! * width + runX1[r]!);
      }
    },
  };
}
