// Our side of bench/train-speed and bench/gpu-train-speed: one process, the backend the engine picks
// (or the one named), timed training steps.
import * as tf from '@tensorflow/tfjs';
import { BackendChoice } from '../app/contract/training.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import type { Batch } from '../app/engine/data/batch.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { createOptimizer } from '../app/engine/training/optimizer.js';
import { trainStep } from '../app/engine/training/train-step.js';
import { createRandom } from '../app/random/prng.js';

// threads: 0 = the engine's default (every logical core); then the backend to use (default auto).
const [base, size, batchSize, warmup, steps, threads] = process.argv.slice(2, 8).map(Number) as [number, number, number, number, number, number];
const backend = await initialiseBackend(BackendChoice.parse(process.argv[8] ?? 'auto'), { threads: threads || undefined });
const random = createRandom(0);
const batch: Batch = {
  size: batchSize, height: size, width: size, channels: 1,
  images: Float32Array.from({ length: batchSize * size * size }, () => random.next()),
  labels: Int32Array.from({ length: batchSize * size * size }, () => (random.next() < 0.3 ? 1 : 0)),
};
const model = buildUnet({ base: base as 16, upsampling: 'transpose', inputChannels: 1, classes: 2 });
const optimizer = createOptimizer({ optimizer: 'adam', learningRate: 1e-3, weightDecay: 0 });
const times: number[] = [];
for (let step = 0; step < warmup + steps; step++) {
  const started = performance.now();
  await trainStep(model, optimizer, batch, { classes: 2, classWeights: null }, null, 1e-3);
  if (step >= warmup) times.push((performance.now() - started) / 1000);
}
times.sort((a, b) => a - b);
const stepSeconds = times[Math.floor(times.length / 2)]!;
process.stdout.write(`${JSON.stringify({ imagesPerSecond: batchSize / stepSeconds, stepSeconds, backend: backend.name, adapter: backend.adapter ?? null, threads: backend.threads ?? null, tensors: tf.memory().numTensors })}\n`);
