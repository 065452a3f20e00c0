import { type Browser, type Page, chromium } from 'playwright-core';

/** Debian's Chromium, as the end-to-end tests launch it (headless, no GPU, no background traffic). */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Chromium with one page; the page's uncaught errors and console errors are pushed to `problems`. */
export async function launchPage(problems: string[], viewport = { width: 1280, height: 720 }): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await (await browser.newContext({ viewport })).newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  return { browser, page };
}
