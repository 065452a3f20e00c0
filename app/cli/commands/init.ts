import { Project } from '../../project/project.js';
import { UsageError, EXIT } from '../cli-error.js';
import type { Command } from '../command.js';

export const initCommand: Command = {
  name: 'init',
  summary: 'create a project folder',
  usage: 'unet-studio init <project> --classes <name[,name...]> [--name <display name>] [--scribble] [--json]\n  --scribble: unpainted pixels are unlabelled (255), not background, so a few strokes make a training image',
  options: {
    classes: { type: 'string', multiple: true },
    name: { type: 'string' },
    scribble: { type: 'boolean', default: false },
  },
  async run(values, positionals, context) {
    const [root] = positionals;
    if (!root || positionals.length > 1) throw new UsageError('init takes exactly one project folder.');
    const classes = ((values.classes as string[] | undefined) ?? []).flatMap((value) => value.split(',')).map((name) => name.trim()).filter(Boolean);
    if (classes.length === 0) throw new UsageError('Name the foreground classes with --classes, e.g. --classes cell or --classes cytoplasm,nucleus.');
    const project = await Project.create(root, { classes, ...(values.name ? { name: values.name as string } : {}) });
    if (values.scribble) await project.setScribble(true);
    const summary = project.summary();
    context.print(`Created project "${summary.name}" in ${summary.path}`);
    context.print(`Classes: ${summary.classes.map((cls) => `${cls.id} ${cls.name} ${cls.color}`).join(', ')}`);
    return { exitCode: EXIT.ok, json: summary };
  },
};
