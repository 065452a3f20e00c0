import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { ImportRequest } from '../app/contract/schemas.js';
import { importImages } from '../app/dataset/import-images.js';
import { startBrowserHost } from '../app/host/browser-host.js';
import { Project } from '../app/project/project.js';
import { createAppServices } from '../app/services/app-services.js';
import type { BenchResult } from './bench-result.js';

const CHROMIUM = '/usr/bin/chromium';
const RENDERER_DIR = fileURLToPath(new URL('../renderer/', import.meta.url));
const SIZES = [4096, 8192];
const MOVES = 240;
const FRAME_BUDGET_MS = 16;

/**
 * Frame times while painting in the real editor in Chromium: a scripted mouse stroke over a
 * 4096² and an 8192² image (new masks, whole image in view, brush 60 px). Reports the editor's own
 * per-frame work (input handling + mask redraw, the `editor-frame` measure) and the intervals
 * between animation frames, median and 95th percentile. Goal: work per frame under 16 ms at 4096².
 */
export async function benchEditor(): Promise<BenchResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unet-bench-editor-'));
  const services = createAppServices();
  const host = await startBrowserHost({ registry: services.registry, events: services.events, staticDir: RENDERER_DIR });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  const figures: BenchResult['figures'] = {};
  const goals: BenchResult['goals'] = {};
  try {
    const project = await Project.create(path.join(dir, 'project'), { classes: ['cell'] });
    const images = path.join(dir, 'images');
    await mkdir(images);
    for (const size of SIZES) {
      await sharp({ create: { width: size, height: size, channels: 3, background: { r: 70, g: 80, b: 90 } }, limitInputPixels: false })
        .png({ compressionLevel: 1 })
        .toFile(path.join(images, `big-${size}.png`));
    }
    await importImages(project, ImportRequest.parse({ project: project.root, images: [images] }));

    for (const size of SIZES) {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const url = new URL(host.url);
      url.searchParams.set('project', project.root);
      await page.goto(url.href);
      await page.locator(`[data-id="big-${size}"]`).dblclick();
      await page.getByRole('application', { name: 'Mask canvas' }).locator('canvas').first().waitFor({ timeout: 120_000 });
      await page.locator('h1.name', { hasText: `big-${size}.png` }).waitFor({ timeout: 120_000 });
      await page.locator('input[aria-label="Brush radius"]').fill('30');
      const { work, intervals } = await paintAndMeasure(page);
      figures[`work_median_ms_${size}`] = round(median(work));
      figures[`work_p95_ms_${size}`] = round(percentile(work, 0.95));
      figures[`frame_interval_median_ms_${size}`] = round(median(intervals));
      figures[`frame_interval_p95_ms_${size}`] = round(percentile(intervals, 0.95));
      figures[`frames_${size}`] = work.length;
      if (size === 4096) goals.work_p95_under_16ms_at_4096 = percentile(work, 0.95) < FRAME_BUDGET_MS;
      await page.close();
    }
  } finally {
    await browser.close();
    await host.close();
    await services.close();
    await rm(dir, { recursive: true, force: true });
  }
  return { name: 'editor', figures, goals };
}

async function paintAndMeasure(page: Page): Promise<{ work: number[]; intervals: number[] }> {
  const canvas = (await page.getByRole('application', { name: 'Mask canvas' }).boundingBox())!;
  await page.evaluate(`(() => {
    performance.clearMeasures('editor-frame');
    window.__frames = [];
    window.__recording = true;
    const tick = (time) => { if (!window.__recording) return; window.__frames.push(time); requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  })()`);
  const cx = canvas.x + canvas.width / 2;
  const cy = canvas.y + canvas.height / 2;
  await page.mouse.move(cx - 300, cy - 200);
  await page.mouse.down();
  for (let i = 0; i < MOVES; i++) {
    const t = i / MOVES;
    await page.mouse.move(cx - 300 + 600 * t, cy - 200 + 400 * Math.abs(Math.sin(t * Math.PI * 3)));
  }
  await page.mouse.up();
  await page.waitForTimeout(300);
  const result = (await page.evaluate(`(() => {
    window.__recording = false;
    const frames = window.__frames;
    return {
      work: performance.getEntriesByName('editor-frame').map((entry) => entry.duration),
      intervals: frames.slice(1).map((time, i) => time - frames[i]),
    };
  })()`)) as { work: number[]; intervals: number[] };
  return result;
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))]!;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
