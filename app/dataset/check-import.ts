import path from 'node:path';
import type { CheckedFile, ImportCheck, ImportVerdict } from '../contract/import-check.js';
import type { ImportRequest } from '../contract/schemas.js';
import { runPool } from '../jobs/run-pool.js';
import { imageIdBase } from '../project/project.js';
import { IMPORT_CONCURRENCY, type ImportCallbacks, planImport } from './import-images.js';
import { type Inspection, type InspectTarget, inspectContext, inspectPair, skipProblem } from './inspect-pair.js';
import { fileStem } from './list-files.js';

/**
 * The import preview: decodes every image and mask the import would take, with the import's own
 * checks (inspectPair), and says per image what the import will do and under which name (one row
 * per page of a multi-page TIFF imported page by page), copying and writing nothing.
 */
export async function checkImport(target: InspectTarget, request: ImportRequest, callbacks: ImportCallbacks = {}): Promise<ImportCheck> {
  const started = performance.now();
  const { signal } = callbacks;
  const plan = await planImport(request, signal);
  const context = inspectContext(target, plan.pairs, signal);
  const byName = new Map<string, string[]>();
  for (const pair of plan.pairs) {
    const base = imageIdBase(fileStem(pair.image));
    byName.set(base, [...(byName.get(base) ?? []), pair.image]);
  }
  const sameName = (image: string) => (byName.get(imageIdBase(fileStem(image))) ?? []).filter((other) => other !== image);

  const checked: CheckedFile[][] = new Array(plan.pairs.length);
  let done = 0;
  callbacks.onProgress?.(0, plan.pairs.length, 'Checking');
  await runPool(
    plan.pairs,
    IMPORT_CONCURRENCY,
    async (pair, index) => {
      const row = { image: pair.image, mask: pair.mask, page: null, sameName: sameName(pair.image) };
      try {
        checked[index] = rowsOf(row, await inspectPair(target, request, pair, context));
      } catch (err) {
        if (signal?.aborted) throw err;
        checked[index] = [{ ...row, verdict: 'skipped', reason: skipProblem(pair.image, err), name: null, notes: [] }];
      }
      done += 1;
      callbacks.onProgress?.(done, plan.pairs.length, path.basename(pair.image));
    },
    signal,
  );
  // Files the listing refused (not images, unreadable folders) are skipped too.
  const refused: CheckedFile[] = plan.problems.map((problem) => ({ image: problem.file, page: null, mask: null, verdict: 'skipped', reason: problem, name: null, sameName: [], notes: [] }));
  const files = [...checked.flat(), ...refused];
  const count = (verdict: ImportVerdict) => files.filter((file) => file.verdict === verdict).length;
  return {
    files,
    unmatchedMasks: plan.unmatchedMasks,
    images: count('labelled') + count('unlabelled'),
    labelled: count('labelled'),
    unlabelled: count('unlabelled'),
    masksAdded: count('add-mask'),
    durationMs: Math.round(performance.now() - started),
  };
}

/** A file's rows: one per image it brings (each page of a paged TIFF), its name clashes and notes on the first. */
function rowsOf(row: Pick<CheckedFile, 'image' | 'mask' | 'sameName'>, inspection: Inspection): CheckedFile[] {
  if (inspection.duplicateOf) return [{ ...row, page: null, verdict: 'skipped', reason: inspection.duplicateOf, name: null, notes: inspection.notes }];
  return inspection.pages.map((page, index) => ({
    ...row,
    page: inspection.paged ? page.page : null,
    verdict: page.kind === 'new' ? (page.labels ? 'labelled' : 'unlabelled') : page.kind,
    reason: page.kind === 'new' ? page.maskProblem : page.note,
    name: page.id,
    sameName: index === 0 ? row.sameName : [],
    notes: index === 0 ? inspection.notes : [],
  }));
}
