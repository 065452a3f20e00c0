import { SegmentRequest } from '../../contract/segmentation.js';
import { segmentBatch } from '../../inference/batch-segment.js';
import { mergeSummaryParts } from '../../inference/summary-shards.js';
import { EXIT, UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { optionReader } from '../option-values.js';
import { ProgressBar } from '../progress-bar.js';

export const segmentCommand: Command = {
  name: 'segment',
  summary: 'segment images or folders with a model (ONNX file or a project\'s trained run)',
  usage: [
    'unet-studio segment --model <file.onnx | project[:run]> --input <folder|file>... --output <folder>',
    '    [--threshold X | --mask-threshold X] [--scale X] [--resize studio|reference] [--tile N] [--overlap N] [--overlay] [--opacity X]',
    '    [--probabilities] [--fill-holes] [--min-object N] [--connectivity 4|8] [--tta] [--recursive] [--glob PATTERN]',
    '    [--overwrite] [--classes a,b] [--normalisation unit|imagenet|symmetric|raw255] [--shard I/N] [--json]',
    'unet-studio segment --merge-summaries <output folder> [--json]',
    '  Outputs per image: <name>_labels.png (class ids), <name>_colour.png, with --overlay <name>_overlay.png,',
    '  with --probabilities <name>_prob-<class>.png (16-bit); summary.csv. Existing outputs are kept unless --overwrite.',
    '  --tta: average each tile over its 8 flips and quarter turns (test-time augmentation; 8x the inference).',
    '  --shard I/N: only shard I (1..N) of the images (by a hash of their output path), its summary in',
    '  summary-I-of-N.csv; --merge-summaries joins the N parts into summary.csv once every shard has finished.',
  ].join('\n'),
  options: {
    model: { type: 'string', short: 'm' },
    input: { type: 'string', short: 'i', multiple: true },
    output: { type: 'string', short: 'o' },
    threshold: { type: 'string' },
    'mask-threshold': { type: 'string' },
    scale: { type: 'string', short: 's' },
    resize: { type: 'string' },
    tile: { type: 'string' },
    overlap: { type: 'string' },
    overlay: { type: 'boolean', default: false },
    opacity: { type: 'string' },
    probabilities: { type: 'boolean', default: false },
    'fill-holes': { type: 'boolean', default: false },
    tta: { type: 'boolean', default: false },
    'min-object': { type: 'string' },
    connectivity: { type: 'string' },
    recursive: { type: 'boolean', default: false },
    glob: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    classes: { type: 'string' },
    normalisation: { type: 'string' },
    shard: { type: 'string' },
    'merge-summaries': { type: 'string' },
  },
  async run(values, positionals, context) {
    const mergeFolder = values['merge-summaries'] as string | undefined;
    if (mergeFolder !== undefined) {
      const others = Object.entries(values).filter(([name, value]) => name !== 'merge-summaries' && name !== 'json' && value !== undefined && value !== false);
      if (others.length || positionals.length) throw new UsageError('--merge-summaries takes only the output folder of the shards.');
      const merged = await mergeSummaryParts(mergeFolder);
      context.print(`Merged ${merged.parts.length} summary parts (${merged.rows} images) into ${merged.summaryCsv}.`);
      return { exitCode: EXIT.ok, json: merged };
    }
    const request = parseRequest(values, positionals);
    const bar = new ProgressBar('Segmenting', process.stderr, !context.json && Boolean(process.stderr.isTTY));
    const report = await segmentBatch(request, { signal: context.signal, onProgress: (done, total, file) => bar.update(done, total, file) }).finally(() => bar.finish());
    context.print(`Model ${report.model.name} on ${report.provider.name} (${report.provider.reason}${report.provider.skipped.length ? `; skipped ${report.provider.skipped.map((entry) => `${entry.name}: ${entry.reason}`).join('; ')}` : ''})`);
    context.print(`Segmented ${report.segmented.length} images in ${(report.durationMs / 1000).toFixed(1)} s into ${report.output}${report.kept.length ? `; ${report.kept.length} already done were kept (--overwrite redoes them)` : ''}.`);
    context.print(`Summary: ${report.summaryCsv}${request.shard ? ` (shard ${request.shard.index} of ${request.shard.count}: join the parts with unet-studio segment --merge-summaries ${report.output})` : ''}`);
    if (report.leftoversRemoved) context.print(`Removed ${report.leftoversRemoved} unfinished files left by an interrupted earlier run.`);
    for (const skipped of report.skipped) context.warn(`skipped: ${skipped.message}`);
    const nothingDone = report.segmented.length + report.kept.length === 0;
    if (report.skipped.length) context.warn(nothingDone ? `All ${report.skipped.length} files were skipped (listed above); nothing was segmented.` : `${report.skipped.length} files were skipped (listed above); the rest were segmented.`);
    return { exitCode: nothingDone ? EXIT.failed : report.skipped.length ? EXIT.partial : EXIT.ok, json: report };
  },
};

function parseRequest(values: Record<string, unknown>, positionals: string[]): SegmentRequest {
  const { text, number } = optionReader(values);
  const model = text('model');
  if (!model) throw new UsageError('Name the model with --model <file.onnx | project[:run]>.');
  const inputs = [...((values.input as string[] | undefined) ?? []), ...positionals];
  if (inputs.length === 0) throw new UsageError('Name the images with --input <folder|file> (repeat it or list several).');
  const output = text('output');
  if (!output) throw new UsageError('Name the output folder with --output <folder>.');
  if (text('threshold') !== undefined && text('mask-threshold') !== undefined) throw new UsageError('--mask-threshold is another name for --threshold; give one of them.');
  const shardText = text('shard');
  const shardMatch = shardText === undefined ? null : /^(\d+)\/(\d+)$/.exec(shardText);
  if (shardText !== undefined && !shardMatch) throw new UsageError(`--shard must be I/N (shard I of N, counting from 1), e.g. 2/8, not "${shardText}".`);
  const fields = {
    threshold: number('threshold') ?? number('mask-threshold'),
    scale: number('scale'),
    resize: text('resize'),
    tile: number('tile'),
    overlap: number('overlap'),
    overlayOpacity: number('opacity'),
    minObjectPixels: number('min-object'),
    connectivity: number('connectivity'),
    glob: text('glob'),
    classes: text('classes')?.split(',').map((name) => name.trim()).filter(Boolean),
    normalisation: text('normalisation'),
    shard: shardMatch ? { index: Number(shardMatch[1]), count: Number(shardMatch[2]) } : undefined,
  };
  const parsed = SegmentRequest.safeParse({
    model,
    inputs,
    output,
    recursive: values.recursive,
    overwrite: values.overwrite,
    overlay: values.overlay,
    probabilities: values.probabilities,
    fillHoles: values['fill-holes'],
    tta: values.tta,
    ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)),
  });
  if (!parsed.success) throw new UsageError(`Invalid option: ${parsed.error.issues.map((issue) => `${flagName(issue.path.join('.'))}: ${issue.message}`).join('; ')}`);
  return parsed.data;
}

const FLAGS: Record<string, string> = { overlayOpacity: '--opacity', minObjectPixels: '--min-object', tile: '--tile (a multiple of 16)', 'shard.index': '--shard', 'shard.count': '--shard' };

function flagName(field: string): string {
  return FLAGS[field] ?? `--${field}`;
}
