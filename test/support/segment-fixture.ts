import { fileURLToPath } from 'node:url';
import { loadOnnxModel, type LoadedModel } from '../../app/inference/model-files.js';

/**
 * A reference PyTorch U-Net (bench/pytorch/unet.py, base 3, bilinear, 1 output channel) trained for 30
 * epochs on 32 synthetic 64x64 cell images and exported with torch.onnx.export (opset 13, dynamic
 * batch/height/width, no metadata) by bench/pytorch/export_onnx.py. It segments synthetic cells
 * (99.8% of pixels right), so tests run a real model without needing PyTorch.
 */
export const CELLS_MODEL = fileURLToPath(new URL('../../../test/fixtures/unet-b3-cells.onnx', import.meta.url));

export function loadCellsModel(): Promise<LoadedModel> {
  return loadOnnxModel(CELLS_MODEL, { classes: ['cell'], normalisation: 'unit' });
}
