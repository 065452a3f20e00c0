import { ImportRequest, MaskMode, TiffPages } from '../../contract/schemas.js';
import { importImages, planImport } from '../../dataset/import-images.js';
import { Project } from '../../project/project.js';
import { UsageError, EXIT } from '../cli-error.js';
import type { Command } from '../command.js';
import { ProgressBar } from '../progress-bar.js';

export const importCommand: Command = {
  name: 'import',
  summary: 'import images and (optionally) their masks into a project',
  usage: [
    'unet-studio import <project> --images <folder|file> [more folders or files...] [--masks <folder>] [--roi <folder>]',
    '    [--recursive] [--mask-mode auto|binary|indexed|colour|palette] [--mask-suffix S] [--mask-prefix P]',
    '    [--image-pattern "t{n}"] [--mask-pattern "man_seg{n}"] [--roi-pattern "{stem}_mask"]',
    '    [--tiff-pages first|all] [--max-pixels N] [--dry-run] [--json]',
  ].join('\n'),
  options: {
    images: { type: 'string', multiple: true },
    masks: { type: 'string' },
    roi: { type: 'string' },
    recursive: { type: 'boolean', default: false },
    'mask-mode': { type: 'string', default: 'auto' },
    'mask-suffix': { type: 'string' },
    'mask-prefix': { type: 'string' },
    'image-pattern': { type: 'string' },
    'mask-pattern': { type: 'string' },
    'roi-pattern': { type: 'string' },
    'tiff-pages': { type: 'string' },
    'max-pixels': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
  },
  async run(values, positionals, context) {
    const [root, ...extraInputs] = positionals;
    if (!root) throw new UsageError('Name the project folder first.');
    const inputs = [...((values.images as string[] | undefined) ?? []), ...extraInputs];
    if (inputs.length === 0) throw new UsageError('Name the images to import with --images <folder or file>.');
    const request = parseRequest(root, inputs, values);

    if (values['dry-run']) {
      const plan = await planImport(request, context.signal);
      for (const pair of plan.pairs) context.print(`${pair.image}  <-  ${pair.mask ?? '(no mask)'}${pair.roi ? `  roi ${pair.roi}` : ''}  [${pair.rule}]`);
      for (const problem of plan.problems) context.warn(problem.message);
      if (plan.unmatchedMasks.length) context.warn(`Masks without an image: ${plan.unmatchedMasks.join(', ')}`);
      return { exitCode: plan.problems.length ? EXIT.partial : EXIT.ok, json: plan };
    }

    const project = await Project.open(root);
    const bar = new ProgressBar('Importing', process.stderr, !context.json && Boolean(process.stderr.isTTY));
    const report = await importImages(project, request, { signal: context.signal, onProgress: (done, total, file) => bar.update(done, total, file) }).finally(() => bar.finish());
    context.print(`Imported ${report.imported} images (${report.labelled} labelled, ${report.unlabelled} unlabelled) in ${(report.durationMs / 1000).toFixed(1)} s.`);
    if (report.masksAdded) context.print(`${report.masksAdded} images already in the project without a mask got the mask found for them.`);
    if (report.alreadyPresent) context.print(`${report.alreadyPresent} were already in the project and left as they are.`);
    for (const warning of report.warnings) context.warn(`warning: ${warning.message}`);
    if (report.unmatchedMasks.length) context.warn(`warning: ${report.unmatchedMasks.length} masks matched no image: ${report.unmatchedMasks.slice(0, 10).join(', ')}${report.unmatchedMasks.length > 10 ? ', …' : ''}`);
    for (const skipped of report.skipped) context.warn(`skipped: ${skipped.message}`);
    if (report.skipped.length) context.warn(`${report.skipped.length} files were skipped (listed above); the rest were imported.`);
    return { exitCode: report.skipped.length ? EXIT.partial : EXIT.ok, json: report };
  },
};

function parseRequest(root: string, inputs: string[], values: Record<string, unknown>): ImportRequest {
  const text = (name: string) => values[name] as string | undefined;
  const maskMode = MaskMode.safeParse(text('mask-mode'));
  if (!maskMode.success) throw new UsageError(`--mask-mode must be one of ${MaskMode.options.join(', ')}.`);
  const tiffPages = text('tiff-pages');
  if (tiffPages !== undefined && !TiffPages.safeParse(tiffPages).success) throw new UsageError('--tiff-pages must be "first" or "all".');
  const maxPixels = text('max-pixels');
  if (maxPixels !== undefined && !/^[1-9]\d*$/.test(maxPixels)) throw new UsageError('--max-pixels must be a positive whole number of pixels.');
  const match = Object.fromEntries(
    [
      ['maskSuffix', 'mask-suffix'],
      ['maskPrefix', 'mask-prefix'],
      ['imagePattern', 'image-pattern'],
      ['maskPattern', 'mask-pattern'],
      ['roiPattern', 'roi-pattern'],
    ].flatMap(([key, flag]) => (text(flag!) === undefined ? [] : [[key, text(flag!)]])),
  );
  return ImportRequest.parse({
    project: root,
    images: inputs,
    recursive: values.recursive,
    maskMode: maskMode.data,
    match,
    ...(text('masks') ? { masks: text('masks') } : {}),
    ...(text('roi') ? { roi: text('roi') } : {}),
    ...(tiffPages ? { tiffPages } : {}),
    ...(maxPixels ? { maxPixels: Number(maxPixels) } : {}),
  });
}
