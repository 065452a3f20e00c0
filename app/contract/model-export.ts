import { z } from 'zod';

/** Exporting a trained run's model for use outside U-Net Studio. */

/** onnx: one .onnx file; tfjs: a TF.js layers model folder; bioimageio: a bioimage.io model package (.zip); triton: a Triton model repository. */
export const ModelExportFormat = z.enum(['onnx', 'tfjs', 'bioimageio', 'triton']);
export type ModelExportFormat = z.infer<typeof ModelExportFormat>;

/** The licence a bioimage.io package states unless the user chooses another: the model zoo's usual one. */
export const DEFAULT_MODEL_LICENSE = 'CC-BY-4.0';

export const ModelExportRequest = z.object({
  project: z.string().min(1),
  /** The run whose best model is exported; default: the latest run that has one. */
  runId: z.string().min(1).optional(),
  format: ModelExportFormat,
  /**
   * onnx: the .onnx file (or an existing folder); tfjs: the folder for model.json + weights.bin;
   * bioimageio: the .zip file (or an existing folder); triton: the model repository folder.
   */
  out: z.string().min(1),
  /** onnx and triton: add the `probabilities` output beside `logits`. */
  probabilities: z.boolean().default(true),
  /** bioimageio: the package's authors (default: the user's login name) and its licence, an SPDX identifier (default: DEFAULT_MODEL_LICENSE). */
  authors: z.array(z.string().trim().min(1).max(200)).min(1).optional(),
  license: z.string().regex(/^[A-Za-z0-9.+-]+$/, 'an SPDX licence identifier, e.g. CC-BY-4.0 or MIT').optional(),
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
