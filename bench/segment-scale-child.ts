// Child process of bench/segment-scale.ts: segments one image and reports its own peak memory, so the
// figure is not polluted by the parent building the test image.
import { SegmentRequest } from '../app/contract/segmentation.js';
import { segmentBatch } from '../app/inference/batch-segment.js';
import { loadOnnxModel } from '../app/inference/model-files.js';

const [image, output, modelFile] = process.argv.slice(2);
// Two baselines: the process at rest (modules loaded, nothing else), and with the model's sessions open.
const restRss = process.memoryUsage().rss;
const model = await loadOnnxModel(modelFile!, { classes: ['cell'], normalisation: 'unit' });
const baselineRss = process.memoryUsage().rss;
const started = performance.now();
const report = await segmentBatch(SegmentRequest.parse({ model: modelFile, inputs: [image], output, overlay: true, tile: 512, overlap: 64 }), { model });
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ restRss, baselineRss, peakRss: process.resourceUsage().maxRSS * 1024, seconds, segmented: report.segmented.length, skipped: report.skipped })}\n`);
await model.session.release();
