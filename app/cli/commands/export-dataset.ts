import { ExportDatasetRequest, IgnoreExport } from '../../contract/schemas.js';
import { exportDataset } from '../../dataset/export-dataset.js';
import { Project } from '../../project/project.js';
import { UsageError, EXIT } from '../cli-error.js';
import type { Command } from '../command.js';
import { optionReader } from '../option-values.js';
import { ProgressBar } from '../progress-bar.js';

export const exportDatasetCommand: Command = {
  name: 'export-dataset',
  summary: 'write labelled images as data/imgs + data/masks for the reference PyTorch tools',
  usage: [
    'unet-studio export-dataset <project> --out <folder> [--split all|train|val|test] [--mask-suffix _mask]',
    '    [--channels 3] [--ignore background|keep] [--json]',
    '  --channels 3: every image as 8-bit RGB (the reference train.py builds its network with 3 input channels);',
    '  --ignore: what ignore (255) pixels become in the masks, background (default) or kept as 255.',
  ].join('\n'),
  options: {
    out: { type: 'string' },
    split: { type: 'string', default: 'all' },
    'mask-suffix': { type: 'string', default: '_mask' },
    channels: { type: 'string' },
    ignore: { type: 'string' },
  },
  async run(values, positionals, context) {
    const [root] = positionals;
    if (!root || positionals.length > 1) throw new UsageError('export-dataset takes exactly one project folder.');
    if (!values.out) throw new UsageError('Choose the output folder with --out <folder>.');
    const { text, choice } = optionReader(values);
    if (text('channels') !== undefined && text('channels') !== '3') throw new UsageError('--channels takes 3 (RGB copies); without it images are written as stored.');
    const parsed = ExportDatasetRequest.safeParse({
      project: root,
      out: values.out,
      split: values.split,
      maskSuffix: values['mask-suffix'],
      ...(text('channels') ? { channels: 3 } : {}),
      ...(text('ignore') ? { ignore: choice('ignore', IgnoreExport.options) } : {}),
    });
    if (!parsed.success) throw new UsageError('--split must be one of all, train, val, test.');
    const project = await Project.open(root);
    const bar = new ProgressBar('Exporting', process.stderr, !context.json && Boolean(process.stderr.isTTY));
    const { project: _ignored, ...request } = parsed.data;
    const report = await exportDataset(project, request, { signal: context.signal, onProgress: (done, total, id) => bar.update(done, total, id) }).finally(() => bar.finish());
    context.print(`Wrote ${report.images} image/mask pairs to ${report.out}/data (imgs/, masks/).`);
    if (report.ignoreToBackground) context.warn(`${report.ignoreToBackground} masks had ignore (255) pixels; they were written as background (0). --ignore keep keeps them as 255.`);
    if (report.absentClasses.length) {
      context.warn(`No exported mask contains ${report.absentClasses.join(', ')}: the reference train.py numbers classes by the mask values it finds, so the classes after ${report.absentClasses.length === 1 ? 'it' : 'them'} would shift.`);
    }
    for (const skipped of report.skipped) context.warn(`skipped: ${skipped.message}`);
    return { exitCode: report.skipped.length ? EXIT.partial : EXIT.ok, json: report };
  },
};
