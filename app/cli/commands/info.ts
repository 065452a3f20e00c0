import { Project } from '../../project/project.js';
import { UsageError, EXIT } from '../cli-error.js';
import type { Command } from '../command.js';

export const infoCommand: Command = {
  name: 'info',
  summary: 'show a project: classes, settings, image counts',
  usage: 'unet-studio info <project> [--json]',
  options: {},
  async run(_values, positionals, context) {
    const [root] = positionals;
    if (!root || positionals.length > 1) throw new UsageError('info takes exactly one project folder.');
    const project = await Project.open(root);
    const summary = project.summary();
    if (summary.recovery) {
      context.warn(`project.json was unreadable (${summary.recovery.problem}); recovered from ${summary.recovery.from}, the damaged file is kept as ${summary.recovery.corruptCopy}.`);
    }
    const { counts } = summary;
    context.print(`${summary.name}  (${summary.path})`);
    context.print(`Classes:  ${summary.classes.map((cls) => `${cls.id}=${cls.name}`).join(', ')}  (255 = ignore)`);
    context.print(`Images:   ${counts.images} (${counts.labelled} labelled, ${counts.unlabelled} unlabelled, ${counts.partial} partly labelled, ${counts.predicted} predicted, ${counts.reviewed} reviewed)`);
    context.print(`Settings: validation ${summary.settings.validationPercent}%, seed ${summary.settings.seed}, TIFF pages: ${summary.settings.tiffPages}, pixel limit ${summary.settings.maxImagePixels}`);
    return { exitCode: EXIT.ok, json: summary };
  },
};
