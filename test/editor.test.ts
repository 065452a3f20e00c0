import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Autosaver } from '../app/editor/autosave.js';
import { Edit } from '../app/editor/edit.js';
import { EditHistory } from '../app/editor/history.js';
import { commandForKey, commandForMenu } from '../app/editor/keymap.js';
import { MaskEditor } from '../app/editor/mask-editor.js';
import { paintCapsule } from '../app/editor/raster.js';
import { fillPolygon, floodFill } from '../app/editor/tiled-fill.js';
import { TILE_SIZE, TiledLabelMap } from '../app/editor/tiled-label-map.js';
import { tilePatches } from '../app/editor/tile-patches.js';

function count(map: TiledLabelMap, value: number): number {
  return map.toLabels().reduce((sum, label) => sum + (label === value ? 1 : 0), 0);
}

describe('tiled label map', () => {
  it('round-trips labels through tiles on sizes that are not tile multiples, allocating only non-empty tiles', () => {
    const width = 300;
    const height = 520;
    const labels = new Uint8Array(width * height);
    for (let i = 0; i < labels.length; i += 97) labels[i] = (i % 3) + 1;
    labels.fill(0, 0, width * 260); // the top row of tiles stays empty
    const map = TiledLabelMap.fromLabels(width, height, labels);
    assert.equal(map.columns, 2);
    assert.equal(map.rows, 3);
    assert.deepEqual(map.toLabels(), labels);
    assert.equal(map.tileData(0), null, 'an all-background tile is not allocated');
    assert.equal(map.tileData(1), null);
    assert.ok(map.tileData(4));
    assert.deepEqual(map.tileBounds(5), { x: 256, y: 512, width: 44, height: 8 });
    for (const [x, y] of [[0, 0], [299, 519], [257, 300], [13, 400]] as const) assert.equal(map.get(x, y), labels[y * width + x]);
    const rect = { x: 250, y: 250, width: 20, height: 15 };
    const part = map.readRect(rect);
    for (let row = 0; row < rect.height; row++) {
      for (let column = 0; column < rect.width; column++) {
        assert.equal(part[row * rect.width + column], labels[(rect.y + row) * width + rect.x + column]);
      }
    }
    assert.deepEqual(map.tilesInRect(rect), [0, 1, 2, 3]);
    assert.deepEqual(map.tilesInRect({ x: -50, y: -50, width: 10, height: 10 }), []);
  });
});

describe('raster operations', () => {
  it('paints a disc of exactly the pixels whose centres lie within the radius', () => {
    const map = new TiledLabelMap(64, 64);
    const edit = new Edit(map, 'test');
    paintCapsule(edit, { x: 30, y: 30 }, { x: 30, y: 30 }, 5, 2);
    let expected = 0;
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        const inside = Math.hypot(x + 0.5 - 30, y + 0.5 - 30) <= 5;
        if (inside) expected++;
        assert.equal(map.get(x, y), inside ? 2 : 0, `pixel ${x},${y}`);
      }
    }
    assert.equal(count(map, 2), expected);
  });

  it('paints a thick line between two points as a round-capped band', () => {
    const map = new TiledLabelMap(600, 300);
    const edit = new Edit(map, 'line');
    const a = { x: 20.5, y: 30.5 };
    const b = { x: 560.5, y: 250.5 };
    paintCapsule(edit, a, b, 4, 1);
    const length = Math.hypot(b.x - a.x, b.y - a.y);
    for (let y = 0; y < 300; y += 3) {
      for (let x = 0; x < 600; x += 3) {
        const px = x + 0.5;
        const py = y + 0.5;
        const t = Math.max(0, Math.min(1, ((px - a.x) * (b.x - a.x) + (py - a.y) * (b.y - a.y)) / length ** 2));
        const distance = Math.hypot(px - (a.x + t * (b.x - a.x)), py - (a.y + t * (b.y - a.y)));
        if (Math.abs(distance - 4) > 1e-6) assert.equal(map.get(x, y), distance < 4 ? 1 : 0, `pixel ${x},${y} at ${distance}`);
      }
    }
    // Crosses tile boundaries: the stroke touches tiles in both tile columns and rows it crosses.
    const patch = edit.finish()!;
    assert.deepEqual(patch.tiles.map((tile) => tile.index).sort(), [0, 1, 2]);
  });

  it('fills a polygon by pixel centres (even-odd), clipped to the image', () => {
    const map = new TiledLabelMap(40, 40);
    const edit = new Edit(map, 'square');
    fillPolygon(edit, [{ x: 10, y: 10 }, { x: 20, y: 10 }, { x: 20, y: 20 }, { x: 10, y: 20 }], 3);
    assert.equal(count(map, 3), 100);
    assert.equal(map.get(10, 10), 3);
    assert.equal(map.get(19, 19), 3);
    assert.equal(map.get(20, 20), 0);
    const clipped = new TiledLabelMap(40, 40);
    fillPolygon(new Edit(clipped, 'outside'), [{ x: -10, y: -10 }, { x: 100, y: -10 }, { x: -10, y: 100 }], 1);
    // The triangle x + y < 90 covers the whole 40x40 image.
    assert.equal(count(clipped, 1), 1600);
    const triangle = new TiledLabelMap(200, 200);
    fillPolygon(new Edit(triangle, 'triangle'), [{ x: 0, y: 0 }, { x: 200, y: 0 }, { x: 0, y: 200 }], 1);
    assert.ok(Math.abs(count(triangle, 1) - 20_000) <= 200, `triangle area ${count(triangle, 1)}`);
  });

  it('flood-fills the enclosed region only, across tiles, and leaves the border', () => {
    const map = new TiledLabelMap(700, 600);
    const ring = new Edit(map, 'ring');
    const corners = [{ x: 100, y: 100 }, { x: 600, y: 100 }, { x: 600, y: 500 }, { x: 100, y: 500 }];
    for (let i = 0; i < 4; i++) paintCapsule(ring, corners[i]!, corners[(i + 1) % 4]!, 3, 1);
    ring.finish();
    const inside = new Edit(map, 'fill');
    floodFill(inside, 300, 300, 2);
    const patch = inside.finish()!;
    assert.equal(map.get(300, 300), 2);
    assert.equal(map.get(104, 300), 2);
    assert.equal(map.get(100, 300), 1, 'the ring stays');
    assert.equal(map.get(50, 50), 0, 'outside is untouched');
    assert.equal(map.get(650, 550), 0);
    assert.ok(patch.tiles.length === 6, `tiles touched by the fill: ${patch.tiles.length}`);
    // Filling with the value already there is a no-op.
    const again = new Edit(map, 'again');
    assert.equal(floodFill(again, 300, 300, 2), null);
    assert.equal(again.finish(), null);
    // Filling outside floods around the ring, everywhere else.
    floodFill(new Edit(map, 'outside'), 0, 0, 3);
    assert.equal(map.get(699, 599), 3);
    assert.equal(map.get(300, 300), 2);
  });
});

describe('mask editor tools and history', () => {
  it('records one undo step per stroke, with only the touched tiles, and undoes and redoes 150 strokes exactly', () => {
    const size = 4096;
    const editor = new MaskEditor(new TiledLabelMap(size, size), 3);
    editor.setBrushRadius(6);
    const snapshots: Uint8Array[] = [];
    const strokes = 150;
    for (let i = 0; i < strokes; i++) {
      editor.setLabel(1 + (i % 2));
      const x = 40 + ((i * 263) % 3900);
      const y = 40 + ((i * 517) % 3900);
      editor.pointerDown({ x, y });
      editor.pointerMove({ x: x + 20, y: y + 7 });
      editor.pointerMove({ x: x + 40, y: y + 3 });
      editor.pointerUp({ x: x + 45, y: y + 10 });
      if (i % 50 === 49) snapshots.push(editor.map.toLabels());
    }
    assert.equal(editor.history.undoSteps, strokes);
    // Each step holds before+after copies of its touched tiles only: at most 4 tiles per short stroke.
    const tileBytes = TILE_SIZE * TILE_SIZE;
    assert.ok(editor.history.byteSize <= strokes * 4 * 2 * tileBytes, `history holds ${editor.history.byteSize} bytes`);
    assert.ok(editor.history.byteSize < (strokes * size * size) / 16, 'far below a whole-image snapshot per stroke');

    const final = editor.map.toLabels();
    for (let i = 0; i < 50; i++) assert.ok(editor.undo());
    assert.deepEqual(editor.map.toLabels(), snapshots[1]);
    for (let i = 0; i < 100; i++) assert.ok(editor.undo());
    assert.equal(editor.undo(), false);
    assert.equal(count(editor.map, 0), size * size);
    for (let i = 0; i < 50; i++) assert.ok(editor.redo());
    assert.deepEqual(editor.map.toLabels(), snapshots[0]);
    for (let i = 0; i < 100; i++) assert.ok(editor.redo());
    assert.equal(editor.redo(), false);
    assert.deepEqual(editor.map.toLabels(), final);
  });

  it('stores patch bytes in proportion to the tiles a stroke touches', () => {
    const editor = new MaskEditor(new TiledLabelMap(2048, 2048), 2);
    const tileBytes = TILE_SIZE * TILE_SIZE;
    editor.pointerDown({ x: 100, y: 100 });
    editor.pointerUp({ x: 120, y: 100 });
    assert.equal(editor.history.byteSize, tileBytes, 'one fresh tile: no before copy, one after copy');
    editor.pointerDown({ x: 40, y: 200 });
    editor.pointerUp({ x: 60, y: 200 });
    assert.equal(editor.history.byteSize, 3 * tileBytes, 'a second stroke in the same tile: before and after');
    editor.pointerDown({ x: 500, y: 500 });
    editor.pointerUp({ x: 530, y: 530 }); // crosses the corner of four tiles
    assert.equal(editor.history.byteSize, 7 * tileBytes);
  });

  it('keeps at least 100 steps and drops the oldest beyond the step limit; a new stroke clears redo', () => {
    const editor = new MaskEditor(new TiledLabelMap(300, 300), 2, new EditHistory(120));
    for (let i = 0; i < 130; i++) {
      editor.pointerDown({ x: (i * 7) % 290, y: (i * 13) % 290 });
      editor.pointerUp({ x: (i * 7) % 290 + 1, y: (i * 13) % 290 });
      // Paint and erase alternately so every stroke changes something.
      editor.setTool(i % 2 === 0 ? 'eraser' : 'brush');
    }
    assert.equal(editor.history.undoSteps, 120);
    editor.undo();
    editor.undo();
    assert.equal(editor.history.redoSteps, 2);
    editor.setTool('brush');
    editor.pointerDown({ x: 150, y: 150 });
    editor.pointerUp({ x: 150, y: 150 });
    assert.equal(editor.history.redoSteps, 0);
  });

  it('emits redraw rectangles during a stroke and the changed tiles once it ends', () => {
    const editor = new MaskEditor(new TiledLabelMap(600, 600), 2);
    const changes: Array<{ tiles: number[] }> = [];
    editor.onChange((change) => changes.push(change));
    editor.pointerDown({ x: 250, y: 10 });
    editor.pointerMove({ x: 262, y: 10 });
    assert.ok(editor.busy);
    assert.ok(changes.length === 2 && changes.every((change) => change.tiles.length === 0));
    editor.pointerUp({ x: 270, y: 10 });
    assert.equal(editor.busy, false);
    assert.deepEqual(changes.at(-1)!.tiles.sort(), [0, 1]);
  });

  it('settle() commits a stroke in progress so an image switch never loses it; cancel() reverts it', () => {
    const editor = new MaskEditor(new TiledLabelMap(100, 100), 2);
    editor.pointerDown({ x: 50, y: 50 });
    editor.pointerMove({ x: 60, y: 50 });
    editor.settle();
    assert.equal(editor.busy, false);
    assert.equal(editor.history.undoSteps, 1);
    assert.equal(editor.map.get(55, 50), 1);
    editor.pointerDown({ x: 10, y: 10 });
    editor.cancel();
    assert.equal(editor.map.get(10, 10), 0);
    assert.equal(editor.history.undoSteps, 1);
  });

  it('polygon tool: click vertices and close on the first vertex; drag for a lasso; Escape cancels', () => {
    const editor = new MaskEditor(new TiledLabelMap(100, 100), 3);
    editor.setTool('polygon');
    editor.setLabel(2);
    for (const point of [{ x: 10, y: 10 }, { x: 30, y: 10 }, { x: 30, y: 30 }, { x: 10, y: 30 }]) {
      editor.pointerDown(point);
      editor.pointerUp(point);
    }
    assert.equal(editor.activeTool.outline.length, 4);
    assert.equal(count(editor.map, 2), 0, 'nothing is filled before the polygon closes');
    editor.pointerDown({ x: 11, y: 11 });
    assert.equal(count(editor.map, 2), 400);
    assert.equal(editor.busy, false);

    editor.setLabel(1);
    editor.pointerDown({ x: 50, y: 50 });
    for (const point of [{ x: 70, y: 50 }, { x: 70, y: 70 }, { x: 50, y: 70 }]) editor.pointerMove(point);
    editor.pointerUp({ x: 50, y: 52 });
    assert.ok(Math.abs(count(editor.map, 1) - 400) <= 30, `lasso filled ${count(editor.map, 1)}`);

    editor.pointerDown({ x: 80, y: 80 });
    editor.pointerUp({ x: 80, y: 80 });
    editor.pointerDown({ x: 95, y: 80 });
    editor.pointerUp({ x: 95, y: 80 });
    editor.cancel();
    assert.equal(editor.activeTool.outline.length, 0);
    assert.equal(editor.history.undoSteps, 2);
  });

  it('flood fill tool fills the clicked region as one step', () => {
    const editor = new MaskEditor(new TiledLabelMap(50, 50), 2);
    editor.setTool('fill');
    editor.pointerDown({ x: 5.5, y: 5.5 });
    editor.pointerUp({ x: 5.5, y: 5.5 });
    assert.equal(count(editor.map, 1), 2500);
    assert.equal(editor.history.undoSteps, 1);
    editor.undo();
    assert.equal(count(editor.map, 0), 2500);
  });

  it('accepts the prediction everywhere or only inside a drawn region, each as one undo step', () => {
    const labels = new Uint8Array(300 * 300);
    labels.fill(1, 0, 300 * 150);
    const editor = new MaskEditor(new TiledLabelMap(300, 300), 2);
    editor.prediction = TiledLabelMap.fromLabels(300, 300, labels);
    editor.setTool('accept');
    editor.pointerDown({ x: 0, y: 0 });
    for (const point of [{ x: 100, y: 0 }, { x: 100, y: 100 }, { x: 0, y: 100 }]) editor.pointerMove(point);
    editor.pointerUp({ x: 0, y: 1 });
    assert.equal(editor.map.get(50, 50), 1);
    assert.equal(editor.map.get(150, 50), 0, 'outside the region the mask is unchanged');
    assert.ok(editor.acceptPrediction());
    assert.deepEqual(editor.map.toLabels(), labels);
    assert.equal(editor.history.undoSteps, 2);
    editor.undo();
    assert.equal(editor.map.get(150, 50), 0);
  });

  it('accepts only valid classes and clamps the brush', () => {
    const editor = new MaskEditor(new TiledLabelMap(10, 10), 3);
    editor.setLabel(7);
    assert.equal(editor.label, 1);
    editor.setLabel(255);
    assert.equal(editor.label, 255);
    editor.setBrushRadius(10_000);
    assert.equal(editor.brushRadius, 512);
    editor.setBrushRadius(10);
    editor.stepBrush(1);
    assert.equal(editor.brushRadius, 12);
    editor.stepBrush(-1);
    editor.stepBrush(-1);
    assert.ok(editor.brushRadius < 12);
  });
});

describe('keyboard map', () => {
  it('maps the documented keys to editor commands', () => {
    assert.deepEqual(commandForKey({ key: '3' }), { kind: 'label', label: 3 });
    assert.deepEqual(commandForKey({ key: '[' }), { kind: 'brush', direction: -1 });
    assert.deepEqual(commandForKey({ key: ']' }), { kind: 'brush', direction: 1 });
    assert.deepEqual(commandForKey({ key: 'z', ctrlKey: true }), { kind: 'undo' });
    assert.deepEqual(commandForKey({ key: 'Z', ctrlKey: true, shiftKey: true }), { kind: 'redo' });
    assert.deepEqual(commandForKey({ key: 'z', metaKey: true, shiftKey: true }), { kind: 'redo' });
    assert.deepEqual(commandForKey({ key: 'e' }), { kind: 'tool', tool: 'eraser' });
    assert.deepEqual(commandForKey({ key: 'ArrowRight' }), { kind: 'image', direction: 1 });
    assert.equal(commandForKey({ key: 'x', ctrlKey: true }), null);
    assert.equal(commandForKey({ key: 'q' }), null);
  });
});

describe('autosave', () => {
  function manualTimers() {
    const queue: Array<() => void> = [];
    return {
      setTimer: (callback: () => void) => (queue.push(callback), queue.length - 1),
      clearTimer: (handle: unknown) => {
        queue[handle as number] = () => undefined;
      },
      fire: () => {
        const callbacks = queue.splice(0);
        for (const callback of callbacks) callback();
      },
    };
  }

  it('waits for the stroke to end, saves each changed tile once, and reports saved / saving / unsaved', async () => {
    const timers = manualTimers();
    const saved: number[][] = [];
    let busy = true;
    const states: string[] = [];
    const saver = new Autosaver({ save: async (tiles) => void saved.push(tiles.sort()), busy: () => busy, ...timers });
    saver.onState((state) => states.push(state));
    saver.changed([3, 1]);
    saver.changed([1, 4]);
    timers.fire();
    assert.deepEqual(saved, [], 'no save while a stroke is in progress');
    busy = false;
    timers.fire();
    await saver.flush();
    assert.deepEqual(saved, [[1, 3, 4]]);
    assert.deepEqual(states, ['unsaved', 'unsaved', 'saving', 'saved']);
    assert.equal(saver.hasUnsaved, false);
  });

  it('keeps tiles whose save failed, reports the error, and saves them on the next flush', async () => {
    const timers = manualTimers();
    let fail = true;
    const saved: number[][] = [];
    const saver = new Autosaver({
      save: async (tiles) => {
        if (fail) throw new Error('disk full');
        saved.push(tiles);
      },
      busy: () => false,
      ...timers,
    });
    saver.changed([7]);
    await assert.rejects(saver.flush(), /disk full/);
    assert.equal(saver.state, 'error');
    fail = false;
    await saver.flush();
    assert.deepEqual(saved, [[7]]);
    assert.equal(saver.state, 'saved');
  });

  it('turns changed tiles into image-clipped patches', () => {
    const map = new TiledLabelMap(300, 260);
    map.writableTile(3).fill(2);
    const patches = tilePatches(map, [3, 3]);
    assert.equal(patches.length, 1);
    assert.deepEqual({ ...patches[0], labels: undefined }, { x: 256, y: 256, width: 44, height: 4, labels: undefined });
    assert.ok(patches[0]!.labels.every((label) => label === 2));
  });
});

it('desktop menu items map to the same editor commands as their keys', () => {
  assert.deepEqual(commandForMenu('undo'), commandForKey({ key: 'z', ctrlKey: true }));
  assert.deepEqual(commandForMenu('redo'), commandForKey({ key: 'z', ctrlKey: true, shiftKey: true }));
  assert.deepEqual(commandForMenu('brush.larger'), commandForKey({ key: ']' }));
  assert.deepEqual(commandForMenu('image.next'), commandForKey({ key: 'ArrowRight' }));
  assert.deepEqual(commandForMenu('zoom.in'), { kind: 'zoom', to: 'in' });
  assert.deepEqual(commandForMenu('zoom.out'), { kind: 'zoom', to: 'out' });
});
