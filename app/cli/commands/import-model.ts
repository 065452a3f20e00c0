import { ImportModelRequest, Normalisation, ResizeRule } from '../../contract/segmentation.js';
import { importExternalModel } from '../../inference/import-model.js';
import { Project } from '../../project/project.js';
import { EXIT, UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { optionReader } from '../option-values.js';

export const importModelCommand: Command = {
  name: 'import-model',
  summary: 'add an ONNX segmentation model made elsewhere (e.g. exported from PyTorch) to a project',
  usage: [
    'unet-studio import-model <project> <file.onnx> [--classes a[,b...]] [--normalisation unit|imagenet|symmetric|raw255]',
    '    [--scale X | --size WxH] [--resize studio|reference] [--name N] [--json]',
    '  --classes: foreground class names when the model does not carry them (background is class 0);',
    '  --normalisation: how the model expects intensities (unit = [0,1], as the reference PyTorch tools);',
    '  --scale / --size: the size it was trained at (the reference tool\'s --scale; default: images as they are);',
    '  --resize reference: size, resize and up-sample exactly as the reference predict.py (Pillow bicubic).',
    '  The model is stored as <project>/models/<name>.onnx and is used with --model <project>:<name>.',
  ].join('\n'),
  options: {
    classes: { type: 'string' },
    normalisation: { type: 'string' },
    normalization: { type: 'string' },
    scale: { type: 'string' },
    size: { type: 'string' },
    resize: { type: 'string' },
    name: { type: 'string' },
  },
  async run(values, positionals, context) {
    const [root, file, ...extra] = positionals;
    if (!root || !file || extra.length) throw new UsageError('import-model takes a project folder and one .onnx file.');
    const { text, choice, sizing } = optionReader(values);
    const normalisation = text('normalisation') ?? text('normalization');
    if (normalisation !== undefined && !Normalisation.safeParse(normalisation).success) throw new UsageError(`--normalisation must be one of ${Normalisation.options.join(', ')}.`);
    const classes = text('classes')?.split(',').map((name) => name.trim()).filter(Boolean);
    const parsed = ImportModelRequest.safeParse({
      project: root,
      file,
      ...(classes?.length ? { classes } : {}),
      ...(normalisation ? { normalisation } : {}),
      ...(sizing() ? { sizing: sizing() } : {}),
      ...(text('resize') ? { resize: choice('resize', ResizeRule.options) } : {}),
      ...(text('name') ? { name: text('name') } : {}),
    });
    if (!parsed.success) throw new UsageError(`Invalid option: ${parsed.error.issues.map((issue) => `${flagOf(issue.path)}: ${issue.message}`).join('; ')}`);
    const project = await Project.open(root);
    const { project: _project, file: _file, ...options } = parsed.data;
    const { model, provider } = await importExternalModel(project, file, options);
    const sizingText = model.sizing.mode === 'size' ? `resized to ${model.sizing.width}x${model.sizing.height}` : model.sizing.scale === 1 ? 'images as they are' : `images scaled by ${model.sizing.scale}`;
    const shapeText = model.fixedSize ? `fixed size ${model.fixedSize.width}x${model.fixedSize.height}` : model.sizeMultiple === 1 ? 'any size' : `sizes padded to multiples of ${model.sizeMultiple}`;
    context.print(`Imported ${model.name}: ${model.inputChannels}-channel input, ${model.outputChannels} output channel${model.outputChannels === 1 ? ' (binary)' : 's'}, classes ${model.classes.map((entry) => entry.name).join(', ')}, normalisation ${model.normalisation}; ${shapeText}, ${sizingText}, ${model.resize} resizing; checked on ${provider.name}.`);
    context.print(`Stored as ${model.file}; use it with --model ${project.root}:${model.name}`);
    return { exitCode: EXIT.ok, json: { model, provider } };
  },
};

/** The flag a schema path came from: sizing.scale is --scale, sizing.width/height are --size. */
function flagOf(path: readonly PropertyKey[]): string {
  if (path[0] === 'sizing') return path[1] === 'scale' ? '--scale' : '--size';
  return `--${String(path[0])}`;
}
