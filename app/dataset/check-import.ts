import path from 'node:path';
import type { CheckedFile, ImportCheck } from '../contract/import-check.js';
import type { ImportRequest } from '../contract/schemas.js';
import { runPool } from '../jobs/run-pool.js';
import { imageIdBase } from '../project/project.js';
import { IMPORT_CONCURRENCY, type ImportCallbacks, planImport } from './import-images.js';
import { type InspectTarget, inspectContext, inspectPair, plannedImageIds, skipProblem } from './inspect-pair.js';
import { fileStem } from './list-files.js';

/**
 * The import preview: decodes every image and mask the import would take, with the import's own
 * checks (inspectPair), and says per file what the import will do and under which name, copying
 * and writing nothing.
 */
export async function checkImport(target: InspectTarget, request: ImportRequest, callbacks: ImportCallbacks = {}): Promise<ImportCheck> {
  const started = performance.now();
  const { signal } = callbacks;
  const plan = await planImport(request, signal);
  const ids = plannedImageIds(target, plan.pairs);
  const context = inspectContext(target, signal);
  const byName = new Map<string, string[]>();
  for (const pair of plan.pairs) {
    const base = imageIdBase(fileStem(pair.image));
    byName.set(base, [...(byName.get(base) ?? []), pair.image]);
  }
  const sameName = (image: string) => (byName.get(imageIdBase(fileStem(image))) ?? []).filter((other) => other !== image);

  const checked: CheckedFile[] = new Array(plan.pairs.length);
  // Counted per page, as the import counts its entries.
  let [labelledPages, unlabelledPages] = [0, 0];
  let done = 0;
  callbacks.onProgress?.(0, plan.pairs.length, 'Checking');
  await runPool(
    plan.pairs,
    IMPORT_CONCURRENCY,
    async (pair, index) => {
      const row = { image: pair.image, mask: pair.mask, sameName: sameName(pair.image) };
      try {
        const inspection = await inspectPair(target, request, pair, context);
        const images = inspection.prepared.length;
        const labelled = inspection.prepared.filter((page) => page.labels).length;
        labelledPages += labelled;
        unlabelledPages += images - labelled;
        const notes = inspection.notes.filter((note) => note !== inspection.notImported);
        checked[index] = {
          ...row,
          verdict: images === 0 ? (inspection.present ? 'present' : 'skipped') : labelled > 0 ? 'labelled' : 'unlabelled',
          reason: inspection.notImported ?? inspection.maskProblem,
          name: images === 0 ? null : ids.get(pair.image)!,
          images,
          notes,
        };
      } catch (err) {
        if (signal?.aborted) throw err;
        checked[index] = { ...row, verdict: 'skipped', reason: skipProblem(pair.image, err), name: null, images: 0, notes: [] };
      }
      done += 1;
      callbacks.onProgress?.(done, plan.pairs.length, path.basename(pair.image));
    },
    signal,
  );
  // Files the listing refused (not images, unreadable folders) are skipped too.
  const refused: CheckedFile[] = plan.problems.map((problem) => ({ image: problem.file, mask: null, verdict: 'skipped', reason: problem, name: null, images: 0, sameName: [], notes: [] }));
  return {
    files: [...checked, ...refused],
    unmatchedMasks: plan.unmatchedMasks,
    images: labelledPages + unlabelledPages,
    labelled: labelledPages,
    unlabelled: unlabelledPages,
    durationMs: Math.round(performance.now() - started),
  };
}
