// Our side of bench/segment-speed, in a fresh process as the PyTorch loop is (the parent generated
// the images with sharp, and that process's state slowed the pipeline by about 6 %): the folder
// end to end, then the raw onnxruntime session on ready tensors of the same size.
import * as ort from 'onnxruntime-node';
import { SegmentRequest } from '../app/contract/segmentation.js';
import { segmentBatch } from '../app/inference/batch-segment.js';
import { loadModelSpec } from '../app/inference/model-files.js';
import { createRandom } from '../app/random/prng.js';
import { SessionPool, sessionLayout } from '../app/inference/session-pool.js';
import { runPool } from '../app/jobs/run-pool.js';
import { stat } from 'node:fs/promises';

const [imagesDir, output, onnxFile, sizeText, warmUpText] = process.argv.slice(2) as [string, string, string, string, string];
const size = Number(sizeText);
const warmUp = Number(warmUpText);

const request = SegmentRequest.parse({ model: onnxFile, inputs: [imagesDir], output, classes: ['cell'], normalisation: 'unit', tile: size });
// Loaded and warmed up first, like the PyTorch model and the raw session: the timings compare per-image work.
const model = await loadModelSpec(onnxFile, { classes: ['cell'], normalisation: 'unit' });
await model.session.run(new Float32Array(warmUp * warmUp), [1, 1, warmUp, warmUp]);
const started = performance.now();
const report = await segmentBatch(request, { model }).finally(() => model.session.release());
const oursImagesPerSecond = report.segmented.length / ((performance.now() - started) / 1000);

/**
 * The session alone on ready tensors of the same size, one image per run as the pipeline sends,
 * with the same warm-up; the better of two layouts: one session on every core, and the pipeline's
 * own layout (several sessions side by side, see sessionLayout) kept busy.
 */
const random = createRandom(1);
const input = Float32Array.from({ length: size * size }, () => random.next());
const images = report.segmented.length;

const session = await ort.InferenceSession.create(onnxFile, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
const inputName = session.inputNames[0]!;
await session.run({ [inputName]: new ort.Tensor('float32', new Float32Array(warmUp * warmUp), [1, 1, warmUp, warmUp]) });
let started2 = performance.now();
for (let i = 0; i < images; i++) await session.run({ [inputName]: new ort.Tensor('float32', input, [1, 1, size, size]) });
const oneSessionImagesPerSecond = images / ((performance.now() - started2) / 1000);
await session.release();

const layout = sessionLayout('cpu', (await stat(onnxFile)).size);
const pool = await SessionPool.open(onnxFile, 'cpu', model.description.inputName, model.description.outputName, layout);
await Promise.all(Array.from({ length: pool.parallelism }, () => pool.run(new Float32Array(warmUp * warmUp), [1, 1, warmUp, warmUp])));
started2 = performance.now();
await runPool(Array.from({ length: images }, (_, i) => i), pool.parallelism, () => pool.run(input.slice(), [1, 1, size, size]).then(() => undefined));
const layoutImagesPerSecond = images / ((performance.now() - started2) / 1000);
await pool.release();
const rawImagesPerSecond = Math.max(oneSessionImagesPerSecond, layoutImagesPerSecond);

process.stdout.write(`${JSON.stringify({ oursImagesPerSecond, rawImagesPerSecond, oneSessionImagesPerSecond, layoutImagesPerSecond, sessions: layout.sessions, provider: report.provider.name, segmented: images })}\n`);
