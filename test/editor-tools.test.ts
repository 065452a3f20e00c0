// Editor tools beyond the basic brush: preserve labels, eraser to unlabelled, fill holes, and the keymap's help.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IGNORE_LABEL } from '../app/contract/schemas.js';
import { KEY_BINDINGS, KEY_HELP, commandForKey } from '../app/editor/keymap.js';
import { MaskEditor } from '../app/editor/mask-editor.js';
import { TiledLabelMap } from '../app/editor/tiled-label-map.js';

/** A map drawn from rows of characters: '.' background, digits classes, '#' unlabelled (255). */
function mapOf(rows: string[]): TiledLabelMap {
  const labels = Uint8Array.from(rows.join(''), (char) => (char === '.' ? 0 : char === '#' ? IGNORE_LABEL : Number(char)));
  return TiledLabelMap.fromLabels(rows[0]!.length, rows.length, labels, 0, 8);
}

function rowsOf(map: TiledLabelMap): string[] {
  const labels = map.toLabels();
  const rows: string[] = [];
  for (let y = 0; y < map.height; y++) {
    rows.push(Array.from(labels.subarray(y * map.width, (y + 1) * map.width), (label) => (label === 0 ? '.' : label === IGNORE_LABEL ? '#' : String(label))).join(''));
  }
  return rows;
}

function stroke(editor: MaskEditor, from: { x: number; y: number }, to: { x: number; y: number }): void {
  editor.pointerDown(from);
  editor.pointerMove(to);
  editor.pointerUp(to);
}

describe('preserve labels', () => {
  const start = [
    '..........',
    '..........',
    '..222.....',
    '..222.....',
    '..........',
  ];

  it('the brush paints only pixels without a class, and undo restores the stroke', () => {
    const editor = new MaskEditor(mapOf(start), 3);
    editor.execute({ kind: 'preserve-labels' });
    assert.equal(editor.state.preserveLabels, true);
    editor.setBrushRadius(0.5);
    // A one-pixel-wide stroke across row 2, through the class-2 object.
    stroke(editor, { x: 0.5, y: 2.5 }, { x: 9.5, y: 2.5 });
    assert.deepEqual(rowsOf(editor.map)[2], '1122211111');
    editor.undo();
    assert.deepEqual(rowsOf(editor.map), start);
    // Without preserve labels the same stroke paints over the object.
    editor.execute({ kind: 'preserve-labels', on: false });
    stroke(editor, { x: 0.5, y: 2.5 }, { x: 9.5, y: 2.5 });
    assert.deepEqual(rowsOf(editor.map)[2], '1111111111');
  });

  it('polygon and flood fill leave other classes alone; a fill started on another class changes nothing', () => {
    const editor = new MaskEditor(mapOf(start), 3);
    editor.setPreserveLabels(true);
    editor.setTool('polygon');
    editor.closeDistance = 0.5; // clicks in a 10×5 map are all within the default close radius
    for (const point of [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 5 }, { x: 0, y: 5 }]) {
      editor.pointerDown(point);
      editor.pointerUp(point);
    }
    editor.complete();
    assert.deepEqual(rowsOf(editor.map), ['1111111111', '1111111111', '1122211111', '1122211111', '1111111111']);
    editor.undo();
    editor.setTool('fill');
    editor.pointerDown({ x: 3.5, y: 2.5 }); // on the class-2 object: guarded
    assert.deepEqual(rowsOf(editor.map), start);
    assert.equal(editor.history.undoSteps, 0, 'a fill that changed nothing is no step');
    editor.pointerDown({ x: 0.5, y: 0.5 });
    assert.deepEqual(rowsOf(editor.map), ['1111111111', '1111111111', '1122211111', '1122211111', '1111111111']);
  });

  it('the eraser erases only the selected class', () => {
    const editor = new MaskEditor(mapOf(['1122..', '1122..']), 3);
    editor.setPreserveLabels(true);
    editor.setTool('eraser');
    editor.setLabel(2);
    editor.setBrushRadius(0.5);
    stroke(editor, { x: 0.5, y: 0.5 }, { x: 5.5, y: 0.5 });
    assert.deepEqual(rowsOf(editor.map), ['11....', '1122..']);
  });
});

describe('eraser to unlabelled', () => {
  it('paints 255 instead of background when chosen; background stays the default; undo restores', () => {
    const editor = new MaskEditor(mapOf(['111111', '111111']), 2);
    editor.setTool('eraser');
    editor.setBrushRadius(0.5);
    assert.equal(editor.state.eraseToUnlabelled, false);
    stroke(editor, { x: 0.5, y: 0.5 }, { x: 2.5, y: 0.5 });
    assert.deepEqual(rowsOf(editor.map), ['...111', '111111']);
    editor.execute({ kind: 'erase-to-unlabelled' });
    assert.equal(editor.state.eraseToUnlabelled, true);
    stroke(editor, { x: 0.5, y: 1.5 }, { x: 2.5, y: 1.5 });
    assert.deepEqual(rowsOf(editor.map), ['...111', '###111']);
    editor.undo();
    assert.deepEqual(rowsOf(editor.map), ['...111', '111111']);
  });
});

describe('fill holes', () => {
  const start = [
    '............',
    '.1111..2222.',
    '.1..1..2..2.',
    '.1..1..2..2.',
    '.1111..2222.',
    '.........1..',
    '111.....1.1.',
    '..1......1..',
    '.#1.........',
    '11..........',
  ];

  it('fills background enclosed by the active class only, as one undoable step', () => {
    const editor = new MaskEditor(mapOf(start), 3);
    editor.setLabel(1);
    editor.execute({ kind: 'fill-holes' });
    assert.deepEqual(rowsOf(editor.map), [
      '............',
      '.1111..2222.',
      '.1111..2..2.', // class 2's hole is not class 1's
      '.1111..2..2.',
      '.1111..2222.',
      '.........1..',
      '111.....111.', // closed in by 4-neighbours of the class
      '..1......1..',
      '.#1.........', // touches the border (and an unlabelled pixel): not a hole
      '11..........',
    ]);
    assert.equal(editor.history.undoSteps, 1);
    editor.undo();
    assert.deepEqual(rowsOf(editor.map), start);
    editor.redo();
    editor.setLabel(2);
    editor.execute({ kind: 'fill-holes' });
    assert.deepEqual(rowsOf(editor.map).slice(2, 4), ['.1111..2222.', '.1111..2222.']);
    assert.equal(editor.history.undoSteps, 2);
  });

  it('a hole next to another class is not filled, and nothing to fill makes no step', () => {
    const editor = new MaskEditor(mapOf(['.....', '.111.', '.1.2.', '.111.', '.....']), 3);
    editor.setLabel(1);
    assert.equal(editor.fillHoles(), false);
    assert.equal(editor.history.undoSteps, 0);
    editor.setLabel(0);
    assert.equal(editor.fillHoles(), false, 'background has no holes to fill');
  });

  it('fills a large hole across tiles (4096², one hole) without going quadratic', () => {
    const size = 4096;
    const labels = new Uint8Array(size * size);
    for (let y = 100; y < size - 100; y++) {
      const row = y * size;
      if (y === 100 || y === size - 101) labels.fill(1, row + 100, row + size - 100);
      else {
        labels[row + 100] = 1;
        labels[row + size - 101] = 1;
      }
    }
    const editor = new MaskEditor(TiledLabelMap.fromLabels(size, size, labels), 2);
    editor.setLabel(1);
    assert.equal(editor.fillHoles(), true);
    assert.equal(editor.map.get(size / 2, size / 2), 1);
    assert.equal(editor.map.get(50, 50), 0);
    editor.undo();
    assert.equal(editor.map.get(size / 2, size / 2), 0);
  });
});

describe('keymap', () => {
  it('the help lists every binding, and the keys it names make their commands', () => {
    for (const binding of KEY_BINDINGS) assert.ok(KEY_HELP.some(([keys, action]) => keys === binding.keys && action === binding.action), binding.keys);
    assert.deepEqual(commandForKey({ key: 'i' }), { kind: 'label', label: IGNORE_LABEL });
    assert.deepEqual(commandForKey({ key: 'h' }), { kind: 'toggle-mask' });
    assert.deepEqual(commandForKey({ key: 'o' }), { kind: 'toggle-outline' });
    assert.deepEqual(commandForKey({ key: '?', shiftKey: true }), { kind: 'help' });
    assert.deepEqual(commandForKey({ key: 'G', shiftKey: true }), { kind: 'fill-holes' });
    assert.deepEqual(commandForKey({ key: 'g' }), { kind: 'tool', tool: 'fill' });
    assert.deepEqual(commandForKey({ key: 'y', ctrlKey: true }), { kind: 'redo' });
    // Every single-key binding named in the help works as named.
    for (const [key, expected] of [['B', 'brush'], ['E', 'eraser'], ['P', 'polygon'], ['A', 'accept']] as const) {
      assert.ok(KEY_HELP.some(([keys]) => keys === key));
      assert.deepEqual(commandForKey({ key: key.toLowerCase() }), { kind: 'tool', tool: expected });
    }
    const keysShown = new Set(KEY_HELP.map(([keys]) => keys));
    assert.equal(keysShown.size, KEY_HELP.length, 'no key listed twice');
  });
});
