// The editor as a store: image loading that cannot race, one execute path, saves before leaving.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EditorHost, type EditorImage, EditorSession } from '../app/editor/editor-session.js';
import { HistoryShelf } from '../app/editor/history-shelf.js';
import { EditHistory } from '../app/editor/history.js';
import { commandForKey, commandForMenu } from '../app/editor/keymap.js';
import { TiledLabelMap } from '../app/editor/tiled-label-map.js';

interface Picture {
  id: string;
  released: boolean;
}

/** A host whose loads the test settles one by one, in any order, and that records saves. */
function scriptedHost() {
  const loads = new Map<string, { resolve: (image: EditorImage<Picture>) => void; reject: (error: Error) => void; signal: AbortSignal }>();
  const pictures: Picture[] = [];
  const saves: Array<{ id: string; tiles: number[] }> = [];
  const left: string[] = [];
  let failSaves = false;
  const host: EditorHost<Picture> = {
    load: (id, signal) => new Promise((resolve, reject) => loads.set(id, { resolve, reject, signal })),
    release: (picture) => {
      assert.equal(picture.released, false, `${picture.id} released twice`);
      picture.released = true;
    },
    save: async (id, _map, tiles) => {
      if (failSaves) throw new Error('The disk is full.');
      saves.push({ id, tiles });
    },
    left: (id) => left.push(id),
  };
  const arrive = (id: string) => {
    const picture = { id, released: false };
    pictures.push(picture);
    loads.get(id)!.resolve({ id, name: `${id}.png`, width: 300, height: 200, picture, mask: null, prediction: null });
  };
  return { host, loads, pictures, saves, left, arrive, failSaves: (fail: boolean) => (failSaves = fail) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

async function sessionOn(ids: string[]) {
  const scripted = scriptedHost();
  const session = new EditorSession(scripted.host, 3, 5);
  session.setOrder(ids);
  const opened = session.open(ids[0]!);
  scripted.arrive(ids[0]!);
  await opened;
  return { session, ...scripted };
}

describe('editor session', () => {
  it('takes a newer prediction of the shown image (live assist) for the overlay and the accept tool, and ignores one of another image', async () => {
    const { session } = await sessionOn(['a', 'b']);
    assert.equal(session.state.image?.hasPrediction, false);
    const prediction = TiledLabelMap.fromLabels(300, 200, new Uint8Array(300 * 200).fill(1, 0, 300 * 10));
    session.setPrediction('b', prediction);
    assert.equal(session.state.image?.hasPrediction, false, 'not the shown image');
    session.setPrediction('a', prediction);
    assert.equal(session.state.image?.hasPrediction, true);
    assert.equal(session.document?.editor.prediction, prediction);
    session.execute({ kind: 'accept-prediction' });
    assert.equal(session.document?.editor.map.get(5, 5), 1);
    assert.equal(session.document?.editor.map.get(5, 150), 0);
  });


  it('two quick "next image" presses end two images on, whatever order the loads finish in', async () => {
    for (const finishFirst of ['c', 'b']) {
      const { session, loads, arrive, pictures } = await sessionOn(['a', 'b', 'c', 'd']);
      session.execute(commandForKey({ key: 'ArrowRight' })!);
      session.execute(commandForMenu('image.next'));
      await settle();
      assert.deepEqual([...loads.keys()], ['a', 'b', 'c']);
      assert.equal(loads.get('b')!.signal.aborted, true, 'the load of b was abandoned');
      assert.equal(session.state.phase, 'loading');
      assert.equal(session.state.imageId, 'c');
      assert.equal(session.state.position, 2);
      arrive(finishFirst);
      arrive(finishFirst === 'c' ? 'b' : 'c');
      await settle();
      assert.equal(session.state.phase, 'ready');
      assert.equal(session.state.image?.id, 'c');
      assert.equal(session.document?.image.id, 'c');
      const byId = Object.fromEntries(pictures.map((picture) => [picture.id, picture.released]));
      assert.deepEqual(byId, { a: true, b: true, c: false }, `finishing ${finishFirst} first`);
      session.dispose();
    }
  });

  it('a load that fails ends in "failed" with its problem, keeps the shown image, and the next load works', async () => {
    const { session, loads, arrive } = await sessionOn(['a', 'b', 'c']);
    void session.open('b');
    await settle();
    loads.get('b')!.reject(new Error('b.png: not a PNG file (the data is damaged).'));
    await settle();
    assert.equal(session.state.phase, 'failed');
    assert.equal(session.state.problem, 'b.png: not a PNG file (the data is damaged).');
    assert.equal(session.state.image?.id, 'a', 'the previous image stays');
    session.execute({ kind: 'image', direction: 1 });
    await settle();
    assert.equal(session.state.phase, 'loading');
    assert.equal(session.state.problem, null);
    arrive('c');
    await settle();
    assert.equal(session.state.phase, 'ready');
    assert.equal(session.state.image?.id, 'c');
    session.dispose();
  });

  it('keys, the menu and toolbar buttons are one execute path, and subscribers see each change', async () => {
    const { session } = await sessionOn(['a']);
    const seen: string[] = [];
    session.subscribe(() => seen.push(`${session.state.mask.tool}/${session.state.mask.label}/${session.state.mask.brushRadius}`));
    session.execute(commandForKey({ key: 'e' })!);
    session.execute(commandForKey({ key: '2' })!);
    session.execute(commandForMenu('brush.larger'));
    session.execute({ kind: 'brush-size', radius: 20 });
    session.execute(commandForMenu('brush.paint'));
    assert.deepEqual(seen, ['eraser/1/8', 'eraser/2/8', 'eraser/2/10', 'eraser/2/20', 'brush/2/20']);
    session.execute({ kind: 'label', label: 9 });
    assert.equal(session.state.mask.label, 2, 'a class the project does not have is refused');

    const { editor } = session.document!;
    assert.equal(session.state.mask.canUndo, false);
    editor.pointerDown({ x: 10, y: 10 });
    assert.equal(session.state.mask.busy, true);
    editor.pointerUp({ x: 12, y: 10 });
    assert.deepEqual([session.state.mask.canUndo, session.state.mask.busy], [true, false]);
    session.execute(commandForKey({ key: 'z', ctrlKey: true })!);
    assert.deepEqual([session.state.mask.canUndo, session.state.mask.canRedo], [false, true]);
    session.execute(commandForMenu('redo'));
    assert.deepEqual([session.state.mask.canUndo, session.state.mask.canRedo], [true, false]);

    const zooms: string[] = [];
    session.attachViewport({ fit: () => zooms.push('fit'), actualSize: () => zooms.push('1:1'), zoomBy: (factor) => zooms.push(`x${factor}`) });
    session.execute(commandForKey({ key: 'f' })!);
    session.execute(commandForMenu('zoom.actual'));
    session.execute(commandForMenu('zoom.in'));
    session.execute(commandForMenu('zoom.out'));
    assert.deepEqual(zooms, ['fit', '1:1', 'x1.25', 'x0.8']);
    session.execute(commandForKey({ key: 'v' })!);
    session.execute({ kind: 'mask-opacity', opacity: 0.3 });
    session.execute(commandForKey({ key: 'h' })!);
    session.execute(commandForKey({ key: 'o' })!);
    assert.deepEqual(session.state.display, { maskOpacity: 0.3, showMask: false, maskOutline: true, showPrediction: false });
    session.execute(commandForKey({ key: '?', shiftKey: true })!);
    assert.equal(session.state.help, true, '? opens the help');
    session.execute({ kind: 'help', open: false });
    assert.equal(session.state.help, false);
    session.dispose();
  });

  it('tool, class, brush and the paint options carry over to the next image', async () => {
    const { session, arrive } = await sessionOn(['a', 'b']);
    session.execute({ kind: 'tool', tool: 'polygon' });
    session.execute({ kind: 'label', label: 2 });
    session.execute(commandForKey({ key: 'l' })!);
    session.execute(commandForKey({ key: 'u' })!);
    session.execute({ kind: 'image', direction: 1 });
    await settle();
    arrive('b');
    await settle();
    assert.equal(session.document?.image.id, 'b');
    assert.deepEqual([session.document?.editor.tool, session.document?.editor.label], ['polygon', 2]);
    const { preserveLabels, eraseToUnlabelled } = session.document!.editor.state;
    assert.deepEqual({ preserveLabels, eraseToUnlabelled }, { preserveLabels: true, eraseToUnlabelled: true }, 'preserve labels and the eraser option carry over too');
    session.dispose();
  });

  it('leaving an image saves its strokes first; when that save fails it stays, and Retry saves them', async () => {
    const { session, saves, loads, failSaves, left } = await sessionOn(['a', 'b']);
    const { editor } = session.document!;
    editor.pointerDown({ x: 5, y: 5 });
    editor.pointerMove({ x: 40, y: 5 });
    failSaves(true);
    session.execute({ kind: 'image', direction: 1 }); // ends the stroke, tries to save, stays
    await settle();
    assert.equal(loads.has('b'), false, 'no image switch with unsaved strokes');
    assert.equal(session.state.save.state, 'error');
    assert.equal(session.state.save.error, 'The disk is full.');
    failSaves(false);
    session.execute({ kind: 'retry-save' });
    await settle();
    assert.equal(session.state.save.state, 'saved');
    assert.deepEqual(saves, [{ id: 'a', tiles: [0] }]);
    session.execute({ kind: 'image', direction: 1 });
    await settle();
    assert.equal(loads.has('b'), true);
    session.dispose();
    await settle();
    assert.deepEqual(left, ['a']);
  });

  it('asking for the image already shown cancels a load under way', async () => {
    const { session, loads, arrive, pictures } = await sessionOn(['a', 'b']);
    void session.open('b');
    await session.open('a');
    assert.equal(loads.get('b')!.signal.aborted, true);
    assert.deepEqual([session.state.phase, session.state.imageId], ['ready', 'a']);
    arrive('b');
    await settle();
    assert.equal(session.document?.image.id, 'a');
    assert.equal(pictures.find((picture) => picture.id === 'b')?.released, true);
    session.dispose();
  });

  it('keeps each image\'s undo history while the session moves between images (the image list jumps too)', async () => {
    // A host that stores what is saved and loads it back, as the studio's does.
    const stored = new Map<string, Uint8Array>();
    const host: EditorHost<Picture> = {
      load: async (id) => ({ id, name: id, width: 300, height: 200, picture: { id, released: false }, mask: stored.has(id) ? TiledLabelMap.fromLabels(300, 200, stored.get(id)!) : null, prediction: null }),
      release: () => undefined,
      save: async (id, map) => void stored.set(id, map.toLabels()),
    };
    const session = new EditorSession(host, 3, 5);
    session.setOrder(['a', 'b', 'c']);
    await session.open('a');
    const stroke = (x: number) => {
      const { editor } = session.document!;
      editor.pointerDown({ x, y: 10 });
      editor.pointerUp({ x: x + 2, y: 10 });
    };
    stroke(10);
    stroke(50);
    await session.goTo('b');
    await settle();
    assert.equal(session.document?.image.id, 'b');
    assert.equal(session.state.mask.canUndo, false, 'b has a history of its own');
    assert.ok(session.histories.has('a'));
    await session.goTo('a');
    await settle();
    assert.equal(session.document?.image.id, 'a');
    assert.equal(session.document?.editor.map.get(50, 10), 1, 'the saved mask came back');
    assert.equal(session.state.mask.canUndo, true, 'and its history with it');
    session.execute({ kind: 'undo' });
    assert.equal(session.document?.editor.map.get(50, 10), 0, 'undo takes back the stroke made before leaving');
    assert.equal(session.document?.editor.map.get(10, 10), 1);
    session.execute({ kind: 'undo' });
    assert.equal(session.document?.editor.map.get(10, 10), 0);
    assert.equal(session.state.mask.canRedo, true);
    session.dispose();
  });

  it('bounds the kept histories: the image left longest ago loses its history first', () => {
    const history = (bytes: number) => {
      const kept = new EditHistory();
      kept.push({ label: 'stroke', bounds: { x: 0, y: 0, width: 1, height: 1 }, tiles: [{ index: 0, before: null, after: new Uint8Array(bytes) }] });
      return kept;
    };
    const shelf = new HistoryShelf(2, 1000);
    shelf.put('a', history(100));
    shelf.put('b', history(100));
    shelf.put('c', history(100));
    assert.deepEqual(['a', 'b', 'c'].map((id) => shelf.has(id)), [false, true, true], 'at most two images');
    shelf.put('d', history(950));
    assert.deepEqual(['b', 'c', 'd'].map((id) => shelf.has(id)), [false, false, true], 'at most 1000 bytes in all');
    assert.equal(shelf.byteSize, 950);
    shelf.put('e', new EditHistory());
    assert.equal(shelf.has('e'), false, 'nothing to undo: not kept');
    assert.notEqual(shelf.take('d'), null);
    assert.equal(shelf.has('d'), false);
  });
});
