// Renders every studio view in Chromium, light and dark, into docs/screenshots/ for the README:
//   npm run build && node dist/bench/screenshots.js
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { unwrap } from '../app/contract/envelope.js';
import { startBrowserHost } from '../app/host/browser-host.js';
import { createAppServices } from '../app/services/app-services.js';

const CHROMIUM = '/usr/bin/chromium';
const RENDERER_DIR = fileURLToPath(new URL('../renderer/', import.meta.url));
const OUT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const VIEWPORT = { width: 1440, height: 900 };

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'unet-screenshots-'));
  const services = createAppServices({ browseHome: work });
  const host = await startBrowserHost({ registry: services.registry, events: services.events, staticDir: RENDERER_DIR });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  const signal = new AbortController().signal;
  const call = async <T>(channel: string, payload: unknown) => unwrap((await services.registry.dispatch(channel, payload, { signal })) as never) as T;
  try {
    await mkdir(OUT_DIR, { recursive: true });
    const demo = await call<{ project: string; newImages: string; folder: string }>('demo.create', { folder: path.join(work, 'demo'), count: 24, size: 128 });
    const finished = new Promise<void>((resolve) => services.events.subscribe((name) => name === 'job.finished' && resolve()));
    await call('train.start', { project: demo.project, preset: 'fast', model: { base: 8 }, settings: { epochs: 4, sizing: { mode: 'scale', scale: 1 }, validationPercent: 20 } });
    await finished;
    for (const theme of ['light', 'dark'] as const) await shoot(browser, host.url, demo, theme);
    process.stdout.write(`Screenshots written to ${OUT_DIR}\n`);
  } finally {
    await browser.close();
    await host.close();
    await services.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function shoot(browser: Browser, hostUrl: string, demo: { project: string; newImages: string; folder: string }, theme: 'light' | 'dark'): Promise<void> {
  const page = await browser.newPage({ viewport: VIEWPORT, colorScheme: theme });
  const save = (name: string) => page.screenshot({ path: path.join(OUT_DIR, `${name}-${theme}.png`) });
  await page.goto(hostUrl);
  await page.getByRole('heading', { name: 'Create a project' }).waitFor();
  await page.locator('#create-path').fill(path.join(demo.folder, 'my-project'));
  await save('start');

  const url = new URL(hostUrl);
  url.searchParams.set('project', demo.project);
  await page.goto(url.href);
  await thumbnailsLoaded(page);
  await page.getByRole('gridcell').nth(1).click();
  await page.getByRole('gridcell').nth(3).click({ modifiers: ['Shift'] });
  await save('dataset');

  await page.getByRole('button', { name: 'Import images' }).first().click();
  await page.locator('#import-images').fill(demo.newImages);
  await page.getByRole('region', { name: 'Import preview' }).getByText('unlabelled').first().waitFor();
  await save('import');
  await page.keyboard.press('Escape');

  await page.getByRole('gridcell').first().dblclick();
  const canvas = page.getByRole('application', { name: 'Mask canvas' });
  await canvas.locator('canvas').first().waitFor();
  await page.waitForTimeout(300);
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.55);
  await page.mouse.down();
  for (let i = 0; i <= 20; i++) await page.mouse.move(box.x + box.width * (0.3 + i * 0.01), box.y + box.height * (0.55 + Math.sin(i / 4) * 0.03));
  await page.mouse.up();
  await page.locator('.save[data-state="saved"]').waitFor();
  await save('editor');

  await page.getByRole('button', { name: 'Training' }).click();
  await page.getByText('Validation predictions · epoch 4').waitFor({ timeout: 20_000 });
  await page.waitForTimeout(300);
  await save('training');

  await page.getByRole('button', { name: 'Segment folder' }).click();
  await page.locator('#segment-input').fill(demo.newImages).catch(() => undefined);
  await page.waitForTimeout(200);
  await save('segment');

  await page.getByRole('button', { name: 'Export' }).click();
  await page.getByText('Model card (written beside the model)').waitFor();
  await save('export');
  await page.close();
}

async function thumbnailsLoaded(page: Page): Promise<void> {
  await page.getByRole('grid', { name: 'Images' }).waitFor();
  await page.locator('[role="gridcell"] img').nth(9).waitFor({ timeout: 20_000 });
  await page.waitForTimeout(500);
}

await main();
