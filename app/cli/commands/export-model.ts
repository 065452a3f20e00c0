import { ModelExportFormat } from '../../contract/model-export.js';
import { Project } from '../../project/project.js';
import { UsageError, EXIT } from '../cli-error.js';
import type { Command } from '../command.js';

export const exportModelCommand: Command = {
  name: 'export',
  summary: 'export a trained model as ONNX or TF.js, with a model card',
  usage: [
    'unet-studio export <project> [--run RUN] --format onnx|tfjs --out <path> [--logits-only] [--overwrite] [--json]',
    '    onnx: --out is the .onnx file (or a folder); tfjs: --out is the folder for model.json + weights.bin.',
    '    The default run is the latest one with a trained model. Existing files are kept unless --overwrite.',
    '    (export-dataset exports images and masks.)',
  ].join('\n'),
  options: {
    run: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    'logits-only': { type: 'boolean', default: false },
    overwrite: { type: 'boolean', default: false },
  },
  async run(values, positionals, context) {
    const [root] = positionals;
    if (!root || positionals.length > 1) throw new UsageError('export takes exactly one project folder.');
    const format = ModelExportFormat.safeParse(values.format);
    if (!format.success) throw new UsageError('Choose the model format with --format onnx or --format tfjs.');
    if (!values.out) throw new UsageError('Choose where to write the model with --out <path>.');
    if (values['logits-only'] && format.data !== 'onnx') throw new UsageError('--logits-only applies to --format onnx only.');
    const project = await Project.open(root);
    // Loaded here, not at start-up: it brings in TensorFlow.js, which the other commands do not need.
    const { exportModel } = await import('../../export/export-model.js');
    const result = await exportModel(project, {
      format: format.data,
      out: String(values.out),
      probabilities: !values['logits-only'],
      overwrite: Boolean(values.overwrite),
      ...(values.run ? { runId: String(values.run) } : {}),
    });
    const dice = result.valDice === null ? 'no validation Dice' : `validation Dice ${result.valDice.toFixed(4)}`;
    context.print(`Exported run ${result.runId} (best epoch ${result.bestEpoch}, ${dice}) as ${format.data === 'onnx' ? 'ONNX' : 'TF.js'}:`);
    for (const file of result.files) context.print(`  ${file}`);
    return { exitCode: EXIT.ok, json: result };
  },
};
