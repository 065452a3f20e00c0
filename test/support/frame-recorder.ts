import type { Page } from 'playwright-core';

/** A mask with a class-1 square ring from `from` to `to` (exclusive), `thickness` wide: a fill inside it paints a big region. */
export function ringMask(size: number, ring: { from: number; to: number; thickness: number }): Uint8Array {
  const labels = new Uint8Array(size * size);
  for (let y = ring.from; y < ring.to; y++) {
    const row = y * size;
    if (y < ring.from + ring.thickness || y >= ring.to - ring.thickness) labels.fill(1, row + ring.from, row + ring.to);
    else {
      labels.fill(1, row + ring.from, row + ring.from + ring.thickness);
      labels.fill(1, row + ring.to - ring.thickness, row + ring.to);
    }
  }
  return labels;
}

/**
 * Starts recording in the page: every animation frame's time, the editor's `editor-frame`
 * measures, the next pointerdown's time and the moment Undo turns on (an edit was committed).
 * Scripts go as strings: they run in the page, not here.
 */
export async function recordFrames(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    performance.clearMeasures('editor-frame');
    window.__frames = [];
    window.__recording = true;
    window.__downAt = undefined;
    window.__committedAt = undefined;
    const tick = (time) => { if (!window.__recording) return; window.__frames.push(time); requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    window.addEventListener('pointerdown', (event) => { window.__downAt = event.timeStamp; }, { capture: true, once: true });
    const undo = document.querySelector('button[aria-label="Undo"]');
    if (undo) new MutationObserver(() => { if (!undo.disabled && window.__committedAt === undefined) window.__committedAt = performance.now(); }).observe(undo, { attributes: true });
  })()`);
}

export interface RecordedFrames {
  frames: number[];
  /** End times of the editor's mask draws. */
  draws: number[];
  downAt: number | undefined;
  committedAt: number | undefined;
}

/** Waits until the recorded edit is committed (polled: the page's CSP forbids the eval waitForFunction uses). */
export async function waitForCommit(page: Page, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await page.evaluate('window.__committedAt')) === undefined) {
    if (Date.now() > deadline) throw new Error(`The edit was not committed within ${timeoutMs / 1000} s.`);
    await page.waitForTimeout(50);
  }
}

export async function stopRecording(page: Page): Promise<RecordedFrames> {
  return (await page.evaluate(`(() => {
    window.__recording = false;
    return {
      frames: window.__frames,
      draws: performance.getEntriesByName('editor-frame').map((entry) => entry.startTime + entry.duration),
      downAt: window.__downAt,
      committedAt: window.__committedAt,
    };
  })()`)) as RecordedFrames;
}

/** Gaps between animation frames from `from` to `to` (both ends count as frame edges). */
export function frameGaps(frames: number[], from: number, to: number): number[] {
  const edges = [from, ...frames.filter((time) => time > from && time < to), to];
  return edges.slice(1).map((time, i) => time - edges[i]!);
}
