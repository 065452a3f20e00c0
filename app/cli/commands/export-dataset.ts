import { ExportDatasetRequest } from '../../contract/schemas.js';
import { exportDataset } from '../../dataset/export-dataset.js';
import { Project } from '../../project/project.js';
import { UsageError, EXIT } from '../cli-error.js';
import type { Command } from '../command.js';
import { ProgressBar } from '../progress-bar.js';

export const exportDatasetCommand: Command = {
  name: 'export-dataset',
  summary: 'write labelled images as data/imgs + data/masks for the reference PyTorch tools',
  usage: 'unet-studio export-dataset <project> --out <folder> [--split all|train|val|test] [--mask-suffix _mask] [--json]',
  options: {
    out: { type: 'string' },
    split: { type: 'string', default: 'all' },
    'mask-suffix': { type: 'string', default: '_mask' },
  },
  async run(values, positionals, context) {
    const [root] = positionals;
    if (!root || positionals.length > 1) throw new UsageError('export-dataset takes exactly one project folder.');
    if (!values.out) throw new UsageError('Choose the output folder with --out <folder>.');
    const parsed = ExportDatasetRequest.safeParse({ project: root, out: values.out, split: values.split, maskSuffix: values['mask-suffix'] });
    if (!parsed.success) throw new UsageError('--split must be one of all, train, val, test.');
    const project = await Project.open(root);
    const bar = new ProgressBar('Exporting', process.stderr, !context.json && Boolean(process.stderr.isTTY));
    const { project: _ignored, ...request } = parsed.data;
    const report = await exportDataset(project, request, { signal: context.signal, onProgress: (done, total, id) => bar.update(done, total, id) }).finally(() => bar.finish());
    context.print(`Wrote ${report.images} image/mask pairs to ${report.out}/data (imgs/, masks/).`);
    for (const skipped of report.skipped) context.warn(`skipped: ${skipped.message}`);
    return { exitCode: report.skipped.length ? EXIT.partial : EXIT.ok, json: report };
  },
};
