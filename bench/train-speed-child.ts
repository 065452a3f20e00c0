// Our side of bench/train-speed and bench/gpu-train-speed: one process, the backend the engine picks
// (or the one named), timed training steps.
import * as tf from '@tensorflow/tfjs';
import { BackendChoice, type ModelConfig } from '../app/contract/training.js';
import type { Batch } from '../app/engine/data/batch.js';
import { buildUnet } from '../app/engine/model/build-unet.js';
import { createOptimizer } from '../app/engine/training/optimizer.js';
import { initialiseTrainingBackend, startTrainingSteps } from '../app/engine/training/replicas/training-steps.js';
import { createRandom } from '../app/random/prng.js';

// threads: 0 = the engine's default (every logical core); then the backend to use (default auto).
const [base, size, batchSize, warmup, steps, threads] = process.argv.slice(2, 8).map(Number) as [number, number, number, number, number, number];
const config: ModelConfig = { base: base as 16, upsampling: 'transpose', inputChannels: 1, classes: 2 };
// As a training run: data-parallel replicas or one model's kernels on the threads, whichever the engine picks.
const { backend, replicas } = await initialiseTrainingBackend(BackendChoice.parse(process.argv[8] ?? 'auto'), threads || null, { model: config, batchSize, imageSize: { width: size, height: size } });
const random = createRandom(0);
const batch: Batch = {
  size: batchSize, height: size, width: size, channels: 1,
  images: Float32Array.from({ length: batchSize * size * size }, () => random.next()),
  labels: Int32Array.from({ length: batchSize * size * size }, () => (random.next() < 0.3 ? 1 : 0)),
};
const model = buildUnet(config);
const optimizerSettings = { optimizer: 'adam', learningRate: 1e-3, weightDecay: 0 } as const;
const training = await startTrainingSteps(replicas, model, createOptimizer(optimizerSettings), {
  model: config, optimizer: optimizerSettings, loss: { classes: 2, classWeights: null }, clipNorm: null, microBatchSize: batchSize, training: true,
});
const times: number[] = [];
for (let step = 0; step < warmup + steps; step++) {
  const started = performance.now();
  await training.step(batch, 1e-3);
  if (step >= warmup) times.push((performance.now() - started) / 1000);
}
await training.close();
times.sort((a, b) => a - b);
const stepSeconds = times[Math.floor(times.length / 2)]!;
process.stdout.write(`${JSON.stringify({ imagesPerSecond: batchSize / stepSeconds, stepSeconds, backend: backend.name, adapter: backend.adapter ?? null, threads: backend.threads ?? null, replicas, tensors: tf.memory().numTensors })}\n`);
