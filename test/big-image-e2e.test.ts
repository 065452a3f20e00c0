import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { ImportRequest } from '../app/contract/schemas.js';
import { importImages } from '../app/dataset/import-images.js';
import type { BrowserHost } from '../app/host/browser-host.js';
import type { AppServices } from '../app/services/app-services.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { Project } from '../app/project/project.js';
import { fittedImageToScreen } from './support/fitted-image.js';
import { frameGaps, recordFrames, ringMask, stopRecording, waitForCommit } from './support/frame-recorder.js';
import { WITHOUT_CHROMIUM, studioInChromium } from './support/studio-in-chromium.js';

const SIZE = 4000;
/** A class-1 square ring: filling inside it paints a 3,000² region. */
const RING = { from: 500, to: 3500, thickness: 40 };
/** The striped image whose tiles arrive after the contrast limits are set (9 tiles). */
const STRIPES_SIZE = 3000;

/**
 * A big image in the real editor in Chromium, with real mouse events: a flood fill of a 3,000²
 * region runs in the edit worker while the page keeps drawing frames, its result and its undo
 * land in the mask file; tiles arriving after contrast limits are set are shown with them.
 */
describe('big image editing end to end', { skip: WITHOUT_CHROMIUM }, () => {
  let project: Project;
  const studio = studioInChromium({
    name: 'unet-big-e2e-',
    viewport: { width: 1280, height: 800 },
    prepare: async (work) => {
      const images = path.join(work, 'images');
      const masks = path.join(work, 'masks');
      await mkdir(images);
      await mkdir(masks);
      await sharp({ create: { width: SIZE, height: SIZE, channels: 3, background: { r: 60, g: 90, b: 120 } } }).png({ compressionLevel: 1 }).toFile(path.join(images, 'big.png'));
      await sharp(ringMask(SIZE, RING), { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toFile(path.join(masks, 'big.png'));
      project = await Project.create(path.join(work, 'project'), { classes: ['cell'] });
      await importImages(project, ImportRequest.parse({ project: project.root, images: [images], masks }));
    },
  });
  const { problems } = studio;
  let host: BrowserHost, page: Page, work: string, services: AppServices;
  before(() => void ({ host, page, work, services } = studio));

  it('fills a 3,000² region without blocking the page, and the mask on disk is right before and after undo', async () => {
    const url = new URL(host.url);
    url.searchParams.set('project', project.root);
    await page.goto(url.href);
    await page.locator('[data-id="big"]').dblclick();
    const canvas = page.getByRole('application', { name: 'Mask canvas' });
    await canvas.locator('canvas').first().waitFor({ timeout: 60_000 });
    await page.locator('h1.name', { hasText: 'big.png' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Flood fill' }).click();
    await page.getByRole('radio', { name: /cell/ }).click();

    const box = (await canvas.boundingBox())!;
    await recordFrames(page);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await waitForCommit(page, 60_000);
    const { frames, downAt, committedAt } = await stopRecording(page);
    assert.ok(downAt !== undefined && committedAt !== undefined);
    const gaps = frameGaps(frames, downAt, committedAt);
    const during = gaps.length - 1;
    // Run on the page's thread, this fill ends inside its pointerdown handler, with no frame drawn
    // between the click and the commit; in the worker, frames go on while it runs. The gap bound
    // only catches a page frozen for most of the fill: the 50 ms goal is the bench's (at 8000²),
    // and a test machine running the suite in parallel stalls frames for reasons of its own.
    assert.ok(during >= 5, `the page drew ${during} frames during a ${Math.round(committedAt - downAt)} ms fill (it was blocked)`);
    assert.ok(Math.max(...gaps) < 1500, `the longest frame gap during the fill was ${Math.round(Math.max(...gaps))} ms`);

    const maskFile = path.join(project.root, 'masks', 'big.png');
    const saved = page.locator('.save[data-state="saved"]');
    await saved.waitFor({ timeout: 60_000 });
    const filled = await waitForMask(maskFile, (labels) => labels[2000 * SIZE + 2000] === 1);
    const expected = ringMask(SIZE, RING);
    expected.fill(0); // the ring and everything inside it are class 1, the outside stays background
    for (let y = RING.from; y < RING.to; y++) expected.fill(1, y * SIZE + RING.from, y * SIZE + RING.to);
    assert.ok(Buffer.from(filled).equals(Buffer.from(expected)), 'the saved mask is the ring filled, and nothing outside it');

    await page.keyboard.press('Control+z');
    const undone = await waitForMask(maskFile, (labels) => labels[2000 * SIZE + 2000] === 0);
    assert.ok(Buffer.from(undone).equals(Buffer.from(ringMask(SIZE, RING))), 'undo brings back the ring exactly');
    assert.deepEqual(problems, []);
  });

  it("shows a big image's late tiles with the contrast limits in force", async () => {
    // Stripes one pixel wide, black and grey: the downscaled level shown first blends them (no pixel
    // stays black), the full-resolution tiles bring them back. White at 1 keeps black pixels black only.
    const stripes = new Uint8Array(STRIPES_SIZE * STRIPES_SIZE);
    for (let i = 1; i < stripes.length; i += 2) stripes[i] = 140;
    const folder = path.join(work, 'late-tiles');
    await mkdir(folder);
    await sharp(stripes, { raw: { width: STRIPES_SIZE, height: STRIPES_SIZE, channels: 1 } }).png({ compressionLevel: 1 }).toFile(path.join(folder, 'stripes.png'));
    await importImages(await services.projects.get(project.root), ImportRequest.parse({ project: project.root, images: [folder] }));
    const url = new URL(host.url);
    url.searchParams.set('project', project.root);
    await page.goto(url.href);
    // Set the limits on the first image: they stay for the next 8-bit one, whose values are then read as soon as it shows.
    await page.locator('[data-id="big"]').dblclick();
    await page.locator('h1.name', { hasText: 'big.png' }).waitFor({ timeout: 60_000 });
    await page.getByRole('slider', { name: 'Upper contrast limit' }).focus();
    await page.keyboard.press('Home');
    await page.getByText('White at 1').waitFor();
    const canvas = page.getByRole('application', { name: 'Mask canvas' });
    await canvas.focus();
    await page.keyboard.press('ArrowRight');
    await page.locator('h1.name', { hasText: 'stripes.png' }).waitFor({ timeout: 60_000 });
    await page.getByText('White at 1').waitFor();
    const fullResolution = page.getByRole('progressbar', { name: /stripes\.png at full resolution/ });
    await fullResolution.waitFor({ timeout: 10_000 }).catch(() => undefined); // it may be over already
    await fullResolution.waitFor({ state: 'detached', timeout: 60_000 });

    // Up close on a corner (its tile comes last), where pixels are drawn as squares.
    const [cornerX, cornerY] = (await fittedImageToScreen(canvas, STRIPES_SIZE))(150, 150);
    const corner = { x: cornerX, y: cornerY };
    await page.mouse.move(corner.x, corner.y);
    await page.mouse.wheel(0, -2000);
    await page.waitForTimeout(300);
    const shot = await page.screenshot({ clip: { x: corner.x - 40, y: corner.y - 40, width: 80, height: 80 } });
    const { data, info } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let black = 0;
    let white = 0;
    for (let i = 0; i < data.length; i += info.channels) {
      if (data[i]! < 30) black++;
      else if (data[i]! > 225) white++;
    }
    const pixels = data.length / info.channels;
    assert.ok(black > pixels * 0.3 && white > pixels * 0.3, `up close, ${black} black and ${white} white of ${pixels} screen pixels (stripes under White at 1)`);
    assert.deepEqual(problems, []);
  });
});

async function waitForMask(file: string, ready: (labels: Uint8Array) => boolean, timeoutMs = 60_000): Promise<Uint8Array> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const labels = (await readMaskPng(file)).labels;
    if (ready(labels)) return labels;
    if (Date.now() > deadline) throw new Error(`${file} did not reach the expected labels within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
