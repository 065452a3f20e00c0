import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../contract/errors.js';
import type { Shard } from '../contract/segmentation.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { describeReadError } from '../files/file-errors.js';

/**
 * Batch segmentation split over N independent jobs (a SLURM array, a Kubernetes indexed Job): shard
 * I of N takes the images whose output path (relative to the output folder) hashes to I - 1 modulo N,
 * so every image belongs to exactly one shard whatever the order the files are listed in, and adding
 * images moves no other image to another shard. Each shard writes its own summary part, with the
 * image's place in the whole batch as the first column; merging the parts gives the summary one
 * run over all images would have written.
 */

export const SUMMARY_CSV = 'summary.csv';
const PART_INDEX_COLUMN = 'batch_index';

export function partFileName(shard: Shard): string {
  return `summary-${shard.index}-of-${shard.count}.csv`;
}

/** Which shard (1..count) an image belongs to, from its output path relative to the output folder. */
export function shardOf(relativeOutput: string, count: number): number {
  const key = relativeOutput.split(path.sep).join('/');
  return (createHash('sha256').update(key).digest().readUInt32BE(0) % count) + 1;
}

/** A shard's summary part: the whole run's table with the batch index of each row in front. */
export function partTable(header: readonly string[], rows: readonly { index: number; cells: readonly string[] }[]): string {
  return csvLines([[PART_INDEX_COLUMN, ...header], ...rows.map((row) => [String(row.index), ...row.cells])]);
}

export function csvLines(rows: readonly (readonly string[])[]): string {
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\n')}\n`;
}

function csvCell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export interface MergedSummary {
  summaryCsv: string;
  parts: string[];
  rows: number;
}

/**
 * Joins `summary-I-of-N.csv` of every shard in `output` into `summary.csv`, rows in batch order. Refuses
 * missing shards, parts of different N, parts with different columns and images in two parts.
 */
export async function mergeSummaryParts(output: string): Promise<MergedSummary> {
  const folder = path.resolve(output);
  const names = await fs.readdir(folder).catch((err: unknown) => {
    throw describeReadError(folder, err);
  });
  const parts = names.flatMap((name) => {
    const match = /^summary-(\d+)-of-(\d+)\.csv$/.exec(name);
    return match ? [{ name, index: Number(match[1]), count: Number(match[2]) }] : [];
  });
  if (parts.length === 0) throw new AppError('not_found', `${folder} has no summary parts (summary-I-of-N.csv): run segment --shard I/N with --output ${folder} first.`, { folder });
  const counts = [...new Set(parts.map((part) => part.count))];
  if (counts.length > 1) throw new AppError('invalid_input', `${folder} has summary parts of runs split ${counts.join(' and ')} ways; keep the parts of one split only.`, { folder });
  const count = counts[0]!;
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((index) => !parts.some((part) => part.index === index));
  if (missing.length) {
    throw new AppError('invalid_input', `${folder}: ${missing.map((index) => partFileName({ index, count })).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing: ${missing.length === 1 ? 'that shard has' : 'those shards have'} not finished (or wrote to another --output).`, { folder, missing });
  }
  let header: string[] | null = null;
  const rows: { index: number; cells: string[] }[] = [];
  const seen = new Map<number, string>();
  for (const part of parts.sort((a, b) => a.index - b.index)) {
    const file = path.join(folder, part.name);
    const text = await fs.readFile(file, 'utf8').catch((err: unknown) => {
      throw describeReadError(file, err);
    });
    const [columns, ...lines] = parseCsv(text, file);
    if (!columns || columns[0] !== PART_INDEX_COLUMN) throw new AppError('invalid_input', `${file}: not a summary part (its first column is not ${PART_INDEX_COLUMN}).`, { file });
    const partHeader = columns.slice(1);
    if (header && partHeader.join() !== header.join()) throw new AppError('invalid_input', `${file}: its columns (${partHeader.join(', ')}) differ from the other parts' (${header.join(', ')}); were they made with different models?`, { file });
    header = partHeader;
    for (const line of lines) {
      const index = Number(line[0]);
      if (seen.has(index)) throw new AppError('invalid_input', `${file}: image ${line[1]} is also in ${seen.get(index)}; keep the parts of one split only.`, { file });
      seen.set(index, part.name);
      rows.push({ index, cells: line.slice(1) });
    }
  }
  rows.sort((a, b) => a.index - b.index);
  const summaryCsv = path.join(folder, SUMMARY_CSV);
  await writeFileAtomic(summaryCsv, csvLines([header!, ...rows.map((row) => row.cells)]));
  return { summaryCsv, parts: parts.map((part) => path.join(folder, part.name)), rows: rows.length };
}

/** RFC 4180 as csvLines writes it: quoted cells may hold commas, quotes ("") and newlines. */
function parseCsv(text: string, file: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') {
        quoted = false;
      } else {
        cell += char;
      }
    } else if (char === '"' && cell === '') {
      quoted = true;
    } else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\n') {
      rows.push([...row, cell]);
      row = [];
      cell = '';
    } else {
      cell += char;
    }
  }
  if (quoted) throw new AppError('invalid_input', `${file}: a quoted cell is not closed (the file is cut short).`, { file });
  if (cell !== '' || row.length) rows.push([...row, cell]);
  return rows;
}
