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
import { InferenceThreadStopped, SessionThread } from '../app/inference/session-thread.js';
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
  // The thread goes away under the job, as a crash or an out-of-memory kill would take it.
  await (model.session as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  const request = SegmentRequest.parse({ model: CELLS_MODEL, inputs: [data.imagesDir], output: path.join(dir, 'out'), classes: ['cell'], normalisation: 'unit' });
  await assert.rejects(segmentBatch(request, { model }), InferenceThreadStopped);
});
