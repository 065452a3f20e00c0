import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../contract/errors.js';
import type { FileProblem } from '../contract/schemas.js';
import type { SegmentRequest } from '../contract/segmentation.js';
import { listImageFiles } from '../dataset/list-files.js';
import { globFilter } from './glob-filter.js';
import { isInside, realPathOfExisting } from '../files/inside-folder.js';

export interface PlannedImage {
  file: string;
  /** Output path without suffix: `<output>/<path relative to its input folder, without extension>`. */
  outputBase: string;
}

export interface BatchPlan {
  output: string;
  images: PlannedImage[];
  problems: FileProblem[];
}

/**
 * Lists the images of a batch job and where each one's outputs go. Refuses an output folder inside
 * (or equal to) an input folder, so outputs are never taken as inputs and can never replace one;
 * two inputs that would share outputs (a.png, a.tif) get the extension in their output names.
 */
export async function planBatch(request: Pick<SegmentRequest, 'inputs' | 'output' | 'recursive' | 'glob'>, signal?: AbortSignal): Promise<BatchPlan> {
  const output = path.resolve(request.output);
  const realOutput = await realPathOfExisting(output);
  const matches = request.glob ? globFilter(request.glob) : () => true;
  const images: { file: string; relative: string }[] = [];
  const problems: FileProblem[] = [];
  for (const input of request.inputs) {
    const absolute = path.resolve(input);
    const isFolder = await fs.stat(absolute).then((stats) => stats.isDirectory(), () => false);
    if (isFolder && isInside(realOutput, await realPathOfExisting(absolute))) {
      throw new AppError('invalid_input', `The output folder ${output} is inside the input folder ${absolute}; choose an output folder outside the inputs, so outputs are never read as inputs or written over them.`, { output, input: absolute });
    }
    const root = isFolder ? absolute : path.dirname(absolute);
    const listed = await listImageFiles([absolute], { recursive: request.recursive, ...(signal ? { signal } : {}) });
    for (const file of listed.files) {
      const relative = path.relative(root, file);
      if (matches(relative)) images.push({ file, relative });
    }
    problems.push(...listed.problems.filter((problem) => !isFolder || problem.file === absolute || matches(path.relative(root, problem.file))));
  }

  const unique = [...new Map(images.map((image) => [image.file, image])).values()];
  const byStem = new Map<string, number>();
  const stemOf = (relative: string) => relative.slice(0, relative.length - path.extname(relative).length).toLowerCase();
  for (const image of unique) byStem.set(stemOf(image.relative), (byStem.get(stemOf(image.relative)) ?? 0) + 1);
  const planned = unique.map(({ file, relative }) => {
    const extension = path.extname(relative);
    const stem = relative.slice(0, relative.length - extension.length);
    const shared = byStem.get(stemOf(relative))! > 1;
    return { file, outputBase: path.join(output, shared ? `${stem}_${extension.slice(1)}` : stem) };
  });
  return { output, images: planned, problems };
}

/** Refuses a plan in which an output file would be one of the inputs (e.g. an input named x_labels.png in the output folder). */
export async function assertNoInputOverwritten(images: readonly PlannedImage[], outputsOf: (image: PlannedImage) => string[]): Promise<void> {
  const inputs = new Set(await Promise.all(images.map((image) => realPathOfExisting(image.file))));
  for (const image of images) {
    for (const file of outputsOf(image)) {
      if (inputs.has(await realPathOfExisting(file))) throw new AppError('invalid_input', `Segmenting ${image.file} would overwrite the input ${file}; choose another output folder.`, { file });
    }
  }
}
