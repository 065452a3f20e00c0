import type { RunFolder } from '../../runs/run-store.js';
import type { TrainingCallback } from '../training-callback.js';
import { renderValidationPictures } from '../validation-samples.js';

/** Writes `samples/epoch-NNN.png` (image, truth, prediction of the first validation images) after every epoch. */
export function validationSamples(run: RunFolder): TrainingCallback {
  return {
    async onEpochEnd(_context, { record, validation }) {
      if (validation) await renderValidationPictures(validation.pictures, run.project.classes, run.sampleFile(record.epoch));
    },
  };
}
