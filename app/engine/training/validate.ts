import * as tf from '@tensorflow/tfjs';
import { assembleBatch } from '../data/batch.js';
import type { TrainingSample } from '../data/training-sample.js';
import { ConfusionMatrix } from '../metrics/confusion-matrix.js';
import { type LossOptions, segmentationLoss } from './loss.js';
import { batchTensors } from './train-step.js';
import type { ValidationPicture } from './validation-samples.js';

export interface ValidationResult {
  loss: number;
  matrix: ConfusionMatrix;
  pictures: ValidationPicture[];
}

/**
 * Scores the model on validation images, one at a time (sizes may differ), in inference mode
 * (BatchNorm uses its running statistics). Predictions are cropped back from the padded size. Results
 * are read asynchronously (the webgpu backend has no synchronous reads in Node).
 */
export async function validate(model: tf.LayersModel, samples: readonly TrainingSample[], loss: LossOptions, pictureCount: number, signal?: AbortSignal): Promise<ValidationResult> {
  const matrix = new ConfusionMatrix(loss.classes);
  const pictures: ValidationPicture[] = [];
  let lossSum = 0;
  for (const sample of samples) {
    signal?.throwIfAborted();
    const batch = assembleBatch([sample]);
    const [lossTensor, predictedTensor] = tf.tidy(() => {
      const { images, labels } = batchTensors(batch);
      const logits = model.apply(images, { training: false }) as tf.Tensor4D;
      const predicted = loss.classes === 2 ? tf.greater(tf.squeeze(logits, [3]), 0) : tf.argMax(logits, 3);
      return [segmentationLoss(logits, labels, loss), tf.cast(predicted, 'int32')] as const;
    });
    let predictedPadded: Int32Array;
    try {
      lossSum += (await lossTensor.data())[0]!;
      predictedPadded = (await predictedTensor.data()) as Int32Array;
    } finally {
      tf.dispose([lossTensor, predictedTensor]);
    }
    const predicted = new Uint8Array(sample.width * sample.height);
    for (let y = 0; y < sample.height; y++) {
      for (let x = 0; x < sample.width; x++) predicted[y * sample.width + x] = predictedPadded[y * batch.width + x]!;
    }
    matrix.add(sample.labels, predicted);
    if (pictures.length < pictureCount) pictures.push({ sample, predicted });
  }
  return { loss: samples.length ? lossSum / samples.length : Number.NaN, matrix, pictures };
}
