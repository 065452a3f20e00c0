import { DEFAULT_MODEL_LICENSE, ModelExportFormat, ModelExportRequest } from '../../contract/model-export.js';
import { Project } from '../../project/project.js';
import { UsageError, EXIT } from '../cli-error.js';
import type { Command } from '../command.js';

const FORMAT_NAMES: Record<ModelExportFormat, string> = { onnx: 'ONNX', tfjs: 'TF.js', bioimageio: 'a bioimage.io model package', triton: 'a Triton model repository' };

export const exportModelCommand: Command = {
  name: 'export',
  summary: 'export a trained model (ONNX, TF.js, bioimage.io package, Triton repository) with a model card',
  usage: [
    `unet-studio export <project> [--run RUN] --format ${ModelExportFormat.options.join('|')} --out <path> [--logits-only] [--overwrite]`,
    `    [--author NAME]... [--license SPDX] [--json]`,
    '    onnx: --out is the .onnx file (or a folder); tfjs: --out is the folder for model.json + weights.bin;',
    '    bioimageio: --out is the .zip file (or a folder); --author (repeatable, default: your login name) and',
    `    --license (default ${DEFAULT_MODEL_LICENSE}) go into its rdf.yaml; triton: --out is the model repository folder.`,
    '    The default run is the latest one with a trained model. Existing files are kept unless --overwrite.',
    '    (export-dataset exports images and masks.)',
  ].join('\n'),
  options: {
    run: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    'logits-only': { type: 'boolean', default: false },
    author: { type: 'string', multiple: true },
    license: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
  },
  async run(values, positionals, context) {
    const [root] = positionals;
    if (!root || positionals.length > 1) throw new UsageError('export takes exactly one project folder.');
    const format = ModelExportFormat.safeParse(values.format);
    if (!format.success) throw new UsageError(`Choose the model format with --format ${ModelExportFormat.options.join(', --format ')}.`);
    if (!values.out) throw new UsageError('Choose where to write the model with --out <path>.');
    if (values['logits-only'] && format.data !== 'onnx' && format.data !== 'triton') throw new UsageError('--logits-only applies to --format onnx and triton only.');
    if ((values.author !== undefined || values.license !== undefined) && format.data !== 'bioimageio') throw new UsageError('--author and --license apply to --format bioimageio only.');
    const parsed = ModelExportRequest.safeParse({
      project: root,
      format: format.data,
      out: String(values.out),
      probabilities: !values['logits-only'],
      overwrite: Boolean(values.overwrite),
      ...(values.run ? { runId: String(values.run) } : {}),
      ...(values.author ? { authors: values.author } : {}),
      ...(values.license !== undefined ? { license: values.license } : {}),
    });
    if (!parsed.success) throw new UsageError(`Invalid option: ${parsed.error.issues.map((issue) => `--${issue.path[0] === 'authors' ? 'author' : String(issue.path[0])}: ${issue.message}`).join('; ')}`);
    const project = await Project.open(root);
    // Loaded here, not at start-up: it brings in TensorFlow.js, which the other commands do not need.
    const { exportModel } = await import('../../export/export-model.js');
    const { project: _project, ...request } = parsed.data;
    const result = await exportModel(project, request);
    const dice = result.valDice === null ? 'no validation Dice' : `validation Dice ${result.valDice.toFixed(4)}`;
    context.print(`Exported run ${result.runId} (best epoch ${result.bestEpoch}, ${dice}) as ${FORMAT_NAMES[format.data]}:`);
    for (const file of result.files) context.print(`  ${file}`);
    return { exitCode: EXIT.ok, json: result };
  },
};
