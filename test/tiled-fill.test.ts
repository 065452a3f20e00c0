import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderSyntheticSample } from '../app/dataset/synthetic.js';
import { Edit } from '../app/editor/edit.js';
import { MaskEditor } from '../app/editor/mask-editor.js';
import { InProcessRegionRunner, type TileUpdate, runRegionInSteps } from '../app/editor/region-runner.js';
import { floodFillSteps, polygonFillSteps } from '../app/editor/tiled-fill.js';
import { TiledLabelMap } from '../app/editor/tiled-label-map.js';

const WIDTH = 1100;
const HEIGHT = 700;

/** A cell mask as the demo and users' data have them: background, cell bodies, nuclei. */
function cellMask(seed: number): Uint8Array {
  return renderSyntheticSample(seed, WIDTH, HEIGHT, 3).labels;
}

/** Plain breadth-first 4-connected fill on the flat array: the reference result. */
function referenceFill(labels: Uint8Array, width: number, x: number, y: number, value: number): Uint8Array {
  const out = labels.slice();
  const target = out[y * width + x]!;
  if (target === value) return out;
  const height = out.length / width;
  const queue = [y * width + x];
  out[y * width + x] = value;
  while (queue.length > 0) {
    const at = queue.pop()!;
    const px = at % width;
    const py = (at - px) / width;
    for (const [nx, ny] of [[px - 1, py], [px + 1, py], [px, py - 1], [px, py + 1]] as const) {
      if (nx < 0 || ny < 0 || nx >= width || ny >= height || out[ny * width + nx] !== target) continue;
      out[ny * width + nx] = value;
      queue.push(ny * width + nx);
    }
  }
  return out;
}

function drain<T, R>(steps: Generator<T, R>): { steps: T[]; result: R } {
  const seen: T[] = [];
  for (;;) {
    const step = steps.next();
    if (step.done) return { steps: seen, result: step.value };
    seen.push(step.value);
  }
}

async function settled(editor: MaskEditor): Promise<void> {
  while (editor.busy) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe('tiled region edits', () => {
  it('flood fill in steps gives the reference result on cell masks: background, a cell, a nucleus', () => {
    for (const seed of [3, 11]) {
      const labels = cellMask(seed);
      const seeds: Array<[number, number]> = [];
      for (const wanted of [0, 1, 2]) {
        const at = labels.indexOf(wanted, Math.floor(labels.length / 3));
        assert.ok(at >= 0, `the mask of seed ${seed} has class ${wanted}`);
        seeds.push([at % WIDTH, Math.floor(at / WIDTH)]);
      }
      for (const [x, y] of seeds) {
        const map = TiledLabelMap.fromLabels(WIDTH, HEIGHT, labels);
        const value = (labels[y * WIDTH + x]! + 1) % 3;
        const edit = new Edit(map, 'Fill');
        drain(floodFillSteps(edit, x, y, value, { sliceMs: 0 }));
        assert.deepEqual(map.toLabels(), referenceFill(labels, WIDTH, x, y, value), `fill at ${x},${y} on seed ${seed}`);
      }
    }
  });

  it('reports progress step by step, naming every tile it writes', () => {
    const map = new TiledLabelMap(WIDTH, HEIGHT);
    const edit = new Edit(map, 'Fill');
    const { steps, result } = drain(floodFillSteps(edit, 500, 300, 1, { sliceMs: 0 }));
    assert.ok(steps.length > 100, `an empty ${WIDTH}x${HEIGHT} map fills in many steps (${steps.length})`);
    for (let i = 1; i < steps.length; i++) assert.ok(steps[i]!.pixels > steps[i - 1]!.pixels, 'pixels written only grow');
    assert.equal(steps.at(-1)!.pixels, WIDTH * HEIGHT);
    assert.deepEqual(result, { x: 0, y: 0, width: WIDTH, height: HEIGHT });
    const reported = new Set(steps.flatMap((step) => step.tiles));
    const patch = edit.finish()!;
    assert.deepEqual([...reported].sort((a, b) => a - b), patch.tiles.map((tile) => tile.index).sort((a, b) => a - b));

    const polygon = new Edit(new TiledLabelMap(WIDTH, HEIGHT), 'Polygon fill');
    const triangle = drain(polygonFillSteps(polygon, [{ x: 0, y: 0 }, { x: 1000, y: 0 }, { x: 0, y: 690 }], 2, { sliceMs: 0 }));
    assert.ok(triangle.steps.length > 1);
    assert.equal(triangle.steps.at(-1)!.pixels, polygon.map.toLabels().filter((label) => label === 2).length);
  });

  it('a cancelled run puts the map back exactly as it was', async () => {
    const labels = cellMask(5);
    const map = TiledLabelMap.fromLabels(WIDTH, HEIGHT, labels);
    const shown: TileUpdate[] = [];
    let pauses = 0;
    const patch = await runRegionInSteps(map, { label: 'Fill', operation: { kind: 'fill', x: 0, y: 0, value: 2 } }, {
      tiles: (updates) => shown.push(...updates),
      pause: async () => void pauses++,
      cancelled: () => pauses >= 3,
    });
    assert.equal(patch, null);
    assert.ok(shown.length > 0, 'tiles were shown before the cancel');
    assert.deepEqual(map.toLabels(), labels);
  });

  it('the editor runs fills through its runner, shows tiles as they come, and undo and redo restore exactly', async () => {
    const labels = cellMask(7);
    const map = TiledLabelMap.fromLabels(WIDTH, HEIGHT, labels);
    const editor = new MaskEditor(map, 3);
    editor.regionRunner = new InProcessRegionRunner();
    const changes: number[] = [];
    editor.onChange((change) => changes.push(change.tiles.length));
    editor.setTool('fill');
    editor.setLabel(2);
    const at = labels.indexOf(0);
    const [x, y] = [at % WIDTH, Math.floor(at / WIDTH)];
    editor.pointerDown({ x: x + 0.5, y: y + 0.5 });
    editor.pointerUp({ x: x + 0.5, y: y + 0.5 });
    assert.ok(editor.busy, 'the fill runs after the click returns');
    assert.deepEqual(map.toLabels(), labels, 'the map is untouched until tiles come back');
    await settled(editor);
    const filled = referenceFill(labels, WIDTH, x, y, 2);
    assert.deepEqual(map.toLabels(), filled);
    assert.ok(changes.filter((tiles) => tiles === 0).length > 1, 'tiles were shown while the fill ran');
    assert.ok(changes.at(-1)! > 0, 'the finished step names its tiles for the autosaver');
    assert.equal(editor.history.undoSteps, 1);
    assert.ok(editor.undo());
    assert.deepEqual(map.toLabels(), labels);
    assert.ok(editor.redo());
    assert.deepEqual(map.toLabels(), filled);

    // Escape during a fill leaves the mask as it was and adds no step.
    editor.pointerDown({ x: 1, y: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    editor.execute({ kind: 'cancel' });
    assert.equal(editor.busy, false);
    assert.deepEqual(map.toLabels(), filled);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(map.toLabels(), filled, 'the abandoned run changes nothing later');
    assert.equal(editor.history.undoSteps, 1);

    // A polygon fill takes the same path.
    editor.setTool('polygon');
    for (const point of [{ x: 10, y: 10 }, { x: 400, y: 20 }, { x: 200, y: 500 }]) {
      editor.pointerDown(point);
      editor.pointerUp(point);
    }
    editor.complete();
    await settled(editor);
    assert.equal(editor.history.undoSteps, 2);
    assert.equal(map.get(200, 100), 2);
    editor.undo();
    assert.deepEqual(map.toLabels(), filled);
  });
});
