import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import ort from 'onnxruntime-node';
import { SegmentRequest } from '../app/contract/segmentation.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { segmentBatch } from '../app/inference/batch-segment.js';
import { SessionPool, sessionLayout } from '../app/inference/session-pool.js';
import { InferenceThreadStopped, SessionThread, type TileSession } from '../app/inference/session-thread.js';
import { inferTiled } from '../app/inference/tiled-inference.js';
import { imageSource } from '../app/inference/image-source.js';
import type { RasterImage } from '../app/imaging/read-image.js';
import { createRandom } from '../app/random/prng.js';
import { CELLS_MODEL, loadCellsModel } from './support/segment-fixture.js';
import { tempDir } from './support/temp-dir.js';

const run = promisify(execFile);

function image(size: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: size * size }, () => random.next());
}

test('a session on its own thread gives what the same model gives on the main thread', async () => {
  const thread = await SessionThread.open(CELLS_MODEL, 'cpu', 'image', 'logits');
  const main = await ort.InferenceSession.create(CELLS_MODEL, { executionProviders: ['cpu'] });
  try {
    // Several runs in flight at once come back to the right callers.
    const inputs = [image(64, 1), image(48, 2), image(32, 3)];
    const fromThread = await Promise.all(inputs.map((input) => thread.run(input.slice(), [1, 1, Math.sqrt(input.length), Math.sqrt(input.length)])));
    for (const [index, input] of inputs.entries()) {
      const side = Math.sqrt(input.length);
      const expected = (await main.run({ image: new ort.Tensor('float32', input, [1, 1, side, side]) })).logits!;
      assert.deepEqual(fromThread[index]!.dims, [1, 1, side, side]);
      assert.deepEqual(Array.from(fromThread[index]!.data), Array.from(expected.data as Float32Array));
    }
  } finally {
    await thread.release();
    await main.release();
  }
});

test('a failed run is an error for its caller; the thread keeps serving, and refuses work once released', async () => {
  const thread = await SessionThread.open(CELLS_MODEL, 'cpu', 'image', 'logits');
  await assert.rejects(thread.run(new Float32Array(3 * 32 * 32), [1, 3, 32, 32]), /image|channel|dimension|Got invalid/i);
  const output = await thread.run(image(32, 4), [1, 1, 32, 32]);
  assert.equal(output.data.length, 32 * 32);
  await thread.release();
  await assert.rejects(thread.run(image(32, 5), [1, 1, 32, 32]), /released/);
});

test('a model the inference thread cannot open is an error naming the file', async (t) => {
  const broken = path.join(await tempDir(t), 'broken.onnx');
  await fs.writeFile(broken, 'not a model');
  await assert.rejects(SessionThread.open(broken, 'cpu', 'image', 'logits'), (err: Error) => err.message.includes(broken) && /could not open/.test(err.message));
});

test('an idle inference thread does not keep the process alive', async (t) => {
  const script = path.join(await tempDir(t), 'idle-thread.mjs');
  await fs.writeFile(script, `
    import { SessionThread } from ${JSON.stringify(new URL('../app/inference/session-thread.js', import.meta.url).href)};
    const thread = await SessionThread.open(${JSON.stringify(CELLS_MODEL)}, 'cpu', 'image', 'logits');
    await thread.run(new Float32Array(32 * 32), [1, 1, 32, 32]);
    console.log('done');`);
  const { stdout } = await run(process.execPath, [script], { timeout: 30_000 });
  assert.equal(stdout.trim(), 'done');
});

test('when the inference thread dies, the batch job fails instead of skipping every image', async (t) => {
  const dir = await tempDir(t);
  const data = await generateSynthetic({ outDir: dir, count: 3, width: 64, height: 64, seed: 2 });
  const model = await loadCellsModel();
  t.after(() => model.session.release());
  // The threads go away under the job, as a crash or an out-of-memory kill would take them.
  const { threads } = model.session as unknown as { threads: { worker: { terminate(): Promise<number> } }[] };
  await Promise.all(threads.map((thread) => thread.worker.terminate()));
  const request = SegmentRequest.parse({ model: CELLS_MODEL, inputs: [data.imagesDir], output: path.join(dir, 'out'), classes: ['cell'], normalisation: 'unit' });
  await assert.rejects(segmentBatch(request, { model }), InferenceThreadStopped);
});

test('the CPU gets one session per core (at most 4) sharing the cores; accelerators and huge models one session', () => {
  const megabytes = 1024 * 1024;
  assert.deepEqual(sessionLayout('cpu', 8 * megabytes, 2), { sessions: 2, intraOpThreads: 1 });
  assert.deepEqual(sessionLayout('cpu', 8 * megabytes, 16), { sessions: 4, intraOpThreads: 4 });
  assert.deepEqual(sessionLayout('cpu', 8 * megabytes, 1), { sessions: 1, intraOpThreads: null });
  assert.deepEqual(sessionLayout('cuda', 8 * megabytes, 16), { sessions: 1, intraOpThreads: null });
  assert.deepEqual(sessionLayout('cpu', 300 * megabytes, 16), { sessions: 1, intraOpThreads: null });
});

/** A pool that counts how many runs are inside it at once. */
function countingRuns(pool: TileSession): TileSession & { mostAtOnce: number } {
  let inside = 0;
  const counting = {
    parallelism: pool.parallelism,
    mostAtOnce: 0,
    async run(input: Float32Array, dims: readonly number[]) {
      inside++;
      counting.mostAtOnce = Math.max(counting.mostAtOnce, inside);
      try {
        return await pool.run(input, dims);
      } finally {
        inside--;
      }
    },
    release: () => pool.release(),
  };
  return counting;
}

test('a session pool answers every run as one session would, several at once', async () => {
  const pool = await SessionPool.open(CELLS_MODEL, 'cpu', 'image', 'logits', { sessions: 2, intraOpThreads: 1 });
  const thread = await SessionThread.open(CELLS_MODEL, 'cpu', 'image', 'logits');
  try {
    assert.equal(pool.parallelism, 2);
    const inputs = [image(64, 6), image(48, 7), image(32, 8), image(64, 9), image(40, 10)];
    const dims = (input: Float32Array) => [1, 1, Math.sqrt(input.length), Math.sqrt(input.length)];
    const fromPool = await Promise.all(inputs.map((input) => pool.run(input.slice(), dims(input))));
    for (const [index, input] of inputs.entries()) {
      const expected = await thread.run(input.slice(), dims(input));
      assert.deepEqual(Array.from(fromPool[index]!.data), Array.from(expected.data));
    }
  } finally {
    await pool.release();
    await thread.release();
  }
});

test('tiles of one band run side by side on a pool, and blend to what one session gives', async () => {
  const model = await loadCellsModel();
  const pool = countingRuns(await SessionPool.open(CELLS_MODEL, 'cpu', 'image', 'logits', { sessions: 2, intraOpThreads: 1 }));
  const single = countingRuns(await SessionThread.open(CELLS_MODEL, 'cpu', 'image', 'logits'));
  try {
    // 3 tiles across: with 2 sessions they go in 2 groups, run at once.
    const raster: RasterImage = { width: 150, height: 70, channels: 1, bitDepth: 8, data: Uint8Array.from({ length: 150 * 70 }, (_, i) => (i * 37) % 251) };
    const source = imageSource(raster, model.description, { mode: 'scale', scale: 1 }, 'studio');
    const rowsOf = async (session: TileSession) => {
      const rows: number[][] = [];
      await inferTiled(session, model.description, source, { tile: 64, overlap: 16 }, (y, row) => {
        rows[y] = Array.from(row);
      });
      return rows;
    };
    const fromPool = await rowsOf(pool);
    const fromSingle = await rowsOf(single);
    assert.equal(pool.mostAtOnce, 2);
    assert.equal(single.mostAtOnce, 1);
    assert.equal(fromPool.length, 70);
    fromPool.forEach((row, y) => row.forEach((value, x) => assert.ok(Math.abs(value - fromSingle[y]![x]!) < 1e-6, `row ${y}, column ${x}`)));
  } finally {
    await pool.release();
    await single.release();
    await model.session.release();
  }
});

test('a pool whose sessions cannot open is an error naming the file, with no thread left behind', async (t) => {
  const broken = path.join(await tempDir(t), 'broken.onnx');
  await fs.writeFile(broken, 'not a model');
  await assert.rejects(SessionPool.open(broken, 'cpu', 'image', 'logits', { sessions: 2, intraOpThreads: 1 }), (err: Error) => err.message.includes(broken));
});
