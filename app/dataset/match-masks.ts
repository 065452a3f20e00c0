import type { MatchRule, MatchRules, PlannedPair } from '../contract/schemas.js';
import { fileStem } from './list-files.js';

/** Mask name endings and beginnings recognised without being told, as found in public data sets. */
const COMMON_SUFFIXES = ['_mask', '-mask', '_masks', '_label', '_labels', '-label', '_gt', '_seg', '_segmentation', '_annotation', '_manual1'];
const COMMON_PREFIXES = ['mask_', 'mask-', 'label_', 'gt_', 'seg_'];

/**
 * Pairs images with masks (and region-of-interest masks). In order, each image takes the first rule
 * that finds exactly one unused candidate:
 * 1. pattern: `maskPattern` with `{stem}` = the image's stem and `{n}` = its number (leading zeros
 *    ignored), e.g. `man_seg{n}` pairs t013.tif with man_seg013.tif. The number comes from
 *    `imagePattern` (e.g. `t{n}`) when given, else from the first digits in the image's name;
 * 2. stem: same name without extension;
 * 3. affix: the given suffix/prefix, or common ones (`_mask`, `_label`, `_gt`, `mask_`, …);
 * 4. number: the same first number, when that number is unique on both sides.
 * With a pattern only rule 1 applies; with a suffix or prefix, rules 2 and 3 (with those affixes).
 */
export function planMatches(
  images: readonly string[],
  masks: readonly string[],
  rois: readonly string[],
  rules: MatchRules,
): { pairs: PlannedPair[]; unmatchedMasks: string[] } {
  const maskMatches = matchCandidates(images, masks, rules, rules.maskPattern);
  const roiMatches = matchCandidates(images, rois, rules, rules.roiPattern);
  const used = new Set([...maskMatches.values()].map((match) => match.file));
  const pairs = images.map((image): PlannedPair => {
    const mask = maskMatches.get(image);
    return { image, mask: mask?.file ?? null, roi: roiMatches.get(image)?.file ?? null, rule: mask?.rule ?? 'none' };
  });
  return { pairs, unmatchedMasks: masks.filter((mask) => !used.has(mask)) };
}

interface Match {
  file: string;
  rule: MatchRule;
}

function matchCandidates(images: readonly string[], candidates: readonly string[], rules: MatchRules, pattern: string | undefined): Map<string, Match> {
  const matches = new Map<string, Match>();
  if (candidates.length === 0) return matches;
  const free = new Map(candidates.map((file) => [file, fileStem(file)]));
  const claim = (image: string, rule: MatchRule, accepts: (stem: string) => boolean) => {
    if (matches.has(image)) return;
    const found = [...free].filter(([, stem]) => accepts(stem));
    if (found.length !== 1) return;
    const [file] = found[0]!;
    free.delete(file);
    matches.set(image, { file, rule });
  };
  const imageNumber = (image: string) => numberIn(fileStem(image), rules.imagePattern);

  if (pattern) {
    for (const image of images) {
      const expected = patternRegex(pattern, fileStem(image), imageNumber(image));
      if (expected) claim(image, 'pattern', (stem) => expected.test(stem));
    }
    return matches;
  }
  for (const image of images) claim(image, 'stem', (stem) => stem === fileStem(image));
  const explicitAffix = rules.maskSuffix !== undefined || rules.maskPrefix !== undefined;
  const suffixes = explicitAffix ? [rules.maskSuffix ?? ''] : ['', ...COMMON_SUFFIXES];
  const prefixes = explicitAffix ? [rules.maskPrefix ?? ''] : ['', ...COMMON_PREFIXES];
  for (const image of images) {
    const stem = fileStem(image);
    const names = new Set(prefixes.flatMap((prefix) => suffixes.map((suffix) => `${prefix}${stem}${suffix}`)));
    names.delete(stem);
    claim(image, 'affix', (candidate) => names.has(candidate));
  }
  if (explicitAffix) return matches;

  const imageCounts = countBy(images.map(imageNumber));
  const candidateCounts = countBy([...free.values()].map((stem) => numberIn(stem, undefined)));
  for (const image of images) {
    const number = imageNumber(image);
    if (number === null || imageCounts.get(number) !== 1 || candidateCounts.get(number) !== 1) continue;
    claim(image, 'number', (stem) => numberIn(stem, undefined) === number);
  }
  return matches;
}

/** The number in a name: `{n}` of the pattern when one is given (null if it does not match), else the first digits. */
function numberIn(stem: string, pattern: string | undefined): number | null {
  const match = pattern ? new RegExp(`^${escapeRegex(pattern).replace('\\{n\\}', '(\\d+)')}$`).exec(stem) : /\d+/.exec(stem);
  const digits = pattern ? match?.[1] : match?.[0];
  return digits === undefined ? null : Number.parseInt(digits, 10);
}

function patternRegex(pattern: string, stem: string, number: number | null): RegExp | null {
  if (pattern.includes('{n}') && number === null) return null;
  const body = escapeRegex(pattern)
    .replaceAll('\\{stem\\}', escapeRegex(stem))
    .replaceAll('\\{n\\}', `0*${number ?? ''}`);
  return new RegExp(`^${body}$`);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function countBy<T>(values: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
