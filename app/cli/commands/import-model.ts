import { Normalisation } from '../../contract/segmentation.js';
import { importExternalModel } from '../../inference/import-model.js';
import { Project } from '../../project/project.js';
import { EXIT, UsageError } from '../cli-error.js';
import type { Command } from '../command.js';

export const importModelCommand: Command = {
  name: 'import-model',
  summary: 'add an ONNX segmentation model made elsewhere (e.g. exported from PyTorch) to a project',
  usage: [
    'unet-studio import-model <project> <file.onnx> [--classes a[,b...]] [--normalisation unit|imagenet|symmetric|raw255] [--name N] [--json]',
    '  --classes: foreground class names when the model does not carry them (background is class 0);',
    '  --normalisation: how the model expects intensities (unit = [0,1], as the reference PyTorch tools).',
    '  The model is stored as <project>/models/<name>.onnx and is used with --model <project>:<name>.',
  ].join('\n'),
  options: {
    classes: { type: 'string' },
    normalisation: { type: 'string' },
    normalization: { type: 'string' },
    name: { type: 'string' },
  },
  async run(values, positionals, context) {
    const [root, file, ...extra] = positionals;
    if (!root || !file || extra.length) throw new UsageError('import-model takes a project folder and one .onnx file.');
    const normalisation = (values.normalisation ?? values.normalization) as string | undefined;
    if (normalisation !== undefined && !Normalisation.safeParse(normalisation).success) throw new UsageError(`--normalisation must be one of ${Normalisation.options.join(', ')}.`);
    const classes = (values.classes as string | undefined)?.split(',').map((name) => name.trim()).filter(Boolean);
    const project = await Project.open(root);
    const { model, provider } = await importExternalModel(project, file, {
      ...(classes?.length ? { classes } : {}),
      ...(normalisation ? { normalisation: normalisation as Normalisation } : {}),
      ...(values.name ? { name: values.name as string } : {}),
    });
    context.print(`Imported ${model.name}: ${model.inputChannels}-channel input, ${model.outputChannels} output channel${model.outputChannels === 1 ? ' (binary)' : 's'}, classes ${model.classes.map((entry) => entry.name).join(', ')}, normalisation ${model.normalisation}${model.fixedSize ? `, fixed size ${model.fixedSize.width}x${model.fixedSize.height}` : ''}; checked on ${provider.name}.`);
    context.print(`Stored as ${model.file}; use it with --model ${project.root}:${model.name}`);
    return { exitCode: EXIT.ok, json: { model, provider } };
  },
};
