// A data-parallel training replica: its own single-threaded wasm backend and copy of the model,
// training on its part of every batch in step with the others (see data-parallel.ts).
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { toContractError } from '../../../contract/errors.js';
import { initialiseBackend } from '../../backend/select-backend.js';
import { buildUnet } from '../../model/build-unet.js';
import { createOptimizer } from '../optimizer.js';
import { trainStep } from '../train-step.js';
import type { ReplicaReply, ReplicaRequest, ReplicaWorkerData } from './replica-messages.js';
import { SharedReplicaSums } from './replica-sums.js';
import { readWeights, toNamedTensors } from './replica-weights.js';

const port = parentPort!;
const { setup, sums: sumsData, replica } = workerData as ReplicaWorkerData;
const reply = (message: ReplicaReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

await initialiseBackend('wasm', { threads: 1 });
const model = buildUnet(setup.model);
const optimizer = createOptimizer(setup.optimizer);
const sums = new SharedReplicaSums(sumsData, replica);

port.on('message', (request: ReplicaRequest) => {
  handle(request).catch((err: unknown) => {
    sums.fail();
    reply({ type: 'failed', error: toContractError(err) });
  });
});
reply({ type: 'ready' });

async function handle(request: ReplicaRequest): Promise<void> {
  switch (request.type) {
    case 'load': {
      const weights = toNamedTensors(request.model);
      try {
        model.setWeights(weights.map((named) => named.tensor));
      } finally {
        tf.dispose(weights.map((named) => named.tensor));
      }
      const state = toNamedTensors(request.optimizer);
      try {
        await optimizer.optimizer.setWeights(state);
      } finally {
        // setWeights keeps copies (its own variables).
        tf.dispose(state.map((named) => named.tensor));
      }
      reply({ type: 'ready' });
      return;
    }
    case 'step':
      await trainStep(model, optimizer, request.part, setup.loss, setup.clipNorm, request.learningRate, setup.microBatchSize, { training: setup.training, replicaSums: sums });
      reply({ type: 'done' });
      return;
    case 'read': {
      const weights = await readWeights(model, optimizer.optimizer);
      reply({ type: 'weights', ...weights }, [...weights.model, ...weights.optimizer].map((tensor) => tensor.values.buffer as ArrayBuffer));
      return;
    }
  }
}
