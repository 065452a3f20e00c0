import type { Page } from 'playwright-core';

/** Waits until `count` thumbnails in the grid have decoded (only a decoded image has a natural width). */
export async function thumbnailsDecoded(page: Page, count: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const widths = await page.locator('[role="gridcell"] img:not([data-mask-preview])').evaluateAll((images) => images.map((image) => (image as unknown as { naturalWidth: number }).naturalWidth));
    if (widths.filter((width) => width > 0).length >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${widths.filter((width) => width > 0).length} of ${count} thumbnails decoded`);
    await page.waitForTimeout(100);
  }
}
