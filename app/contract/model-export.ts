import { z } from 'zod';

/** Exporting a trained run's model for use outside U-Net Studio. */

export const ModelExportFormat = z.enum(['onnx', 'tfjs']);
export type ModelExportFormat = z.infer<typeof ModelExportFormat>;

export const ModelExportRequest = z.object({
  project: z.string().min(1),
  /** The run whose best model is exported; default: the latest run that has one. */
  runId: z.string().min(1).optional(),
  format: ModelExportFormat,
  /** onnx: the .onnx file (or an existing folder); tfjs: the folder for model.json + weights.bin. */
  out: z.string().min(1),
  /** ONNX only: add the `probabilities` output beside `logits`. */
  probabilities: z.boolean().default(true),
  /** Replace files that exist already (the UI asks first); without it an export never writes over a file. */
  overwrite: z.boolean().default(false),
});
export type ModelExportRequest = z.output<typeof ModelExportRequest>;

export const ModelExportResult = z.object({
  format: ModelExportFormat,
  runId: z.string(),
  /** Every file written: the model files first, then the model card (.md, .json). */
  files: z.array(z.string()),
  bestEpoch: z.number().int(),
  valDice: z.number().nullable(),
});
export type ModelExportResult = z.infer<typeof ModelExportResult>;
