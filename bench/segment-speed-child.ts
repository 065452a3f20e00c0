// Our side of bench/segment-speed, in a fresh process as the PyTorch loop is (the parent generated
// the images with sharp, and that process's state slowed the pipeline by about 6 %): the folder
// end to end, then the raw onnxruntime session on ready tensors of the same size.
import * as ort from 'onnxruntime-node';
import { SegmentRequest } from '../app/contract/segmentation.js';
import { segmentBatch } from '../app/inference/batch-segment.js';
import { loadModelSpec } from '../app/inference/model-files.js';
import { createRandom } from '../app/random/prng.js';

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

/** session.run alone, one image per run as the pipeline sends, with the same warm-up. */
const session = await ort.InferenceSession.create(onnxFile, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
const inputName = session.inputNames[0]!;
const random = createRandom(1);
const input = new ort.Tensor('float32', Float32Array.from({ length: size * size }, () => random.next()), [1, 1, size, size]);
await session.run({ [inputName]: new ort.Tensor('float32', new Float32Array(warmUp * warmUp), [1, 1, warmUp, warmUp]) });
const rawStarted = performance.now();
for (let i = 0; i < report.segmented.length; i++) await session.run({ [inputName]: input });
const rawImagesPerSecond = report.segmented.length / ((performance.now() - rawStarted) / 1000);
await session.release();

process.stdout.write(`${JSON.stringify({ oursImagesPerSecond, rawImagesPerSecond, provider: report.provider.name, segmented: report.segmented.length })}\n`);
