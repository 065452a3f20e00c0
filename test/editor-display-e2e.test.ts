import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { ImportRequest } from '../app/contract/schemas.js';
import { importImages } from '../app/dataset/import-images.js';
import { KEY_HELP } from '../app/editor/keymap.js';
import { Project } from '../app/project/project.js';
import { fittedImageToScreen } from './support/fitted-image.js';
import { WITHOUT_CHROMIUM, studioInChromium } from './support/studio-in-chromium.js';

const WIDTH = 96;
const HEIGHT = 64;
/** The 16-bit image's stored value at (x, y): most values are far above 255, so an 8-bit squash would show. */
const valueAt = (x: number, y: number) => 1000 + x * 500 + y * 7;

/**
 * The editor's canvas tools in Chromium with real mouse and keyboard events, on a 16-bit image:
 * the help overlay on ?, the readout of the true value and label under the mouse, the hide-mask key.
 */
describe('editor display and canvas tools end to end', { skip: WITHOUT_CHROMIUM }, () => {
  let project: Project;
  const studio = studioInChromium({
    name: 'unet-editor-display-e2e-',
    prepare: async (work) => {
      const values = new Uint16Array(WIDTH * HEIGHT);
      for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) values[y * WIDTH + x] = valueAt(x, y);
      await mkdir(path.join(work, 'in'));
      await sharp(values, { raw: { width: WIDTH, height: HEIGHT, channels: 1 } }).toColourspace('grey16').png().toFile(path.join(work, 'in', 'deep.png'));
      project = await Project.create(path.join(work, 'project'), { classes: ['cell'] });
      await importImages(project, ImportRequest.parse({ project: project.root, images: [path.join(work, 'in')] }));
      assert.equal(project.images[0]?.bitDepth, 16);
    },
  });
  const { problems } = studio;
  let page: Page;

  before(async () => {
    page = studio.page;
    await page.goto(`${studio.host.url}#${new URLSearchParams({ project: project.root, view: 'editor', image: project.images[0]!.id })}`);
    await page.getByText('1 of 1').waitFor();
    await page.locator('.loading').waitFor({ state: 'detached' });
    await page.getByRole('application', { name: 'Mask canvas' }).locator('canvas').first().waitFor();
  });

  after(() => assert.deepEqual(problems, []));

  /** Screen position of an image pixel's centre with the image fitted. */
  async function screenOf(x: number, y: number): Promise<[number, number]> {
    return (await fittedImageToScreen(page.getByRole('application', { name: 'Mask canvas' }), WIDTH, HEIGHT))(x + 0.5, y + 0.5);
  }

  it('? opens the help overlay listing every key of the keymap; ? again closes it', async () => {
    await page.getByRole('application', { name: 'Mask canvas' }).focus();
    await page.keyboard.press('Shift+Slash'); // "?" on a US layout
    const dialog = page.getByRole('dialog', { name: 'Editor keys' });
    await dialog.waitFor();
    assert.equal(await dialog.locator('dt').count(), KEY_HELP.length);
    for (const [keys, action] of KEY_HELP) {
      assert.equal(await dialog.locator('dd', { hasText: action }).count() >= 1, true, `${keys}: ${action}`);
    }
    await page.keyboard.press('Shift+Slash');
    await dialog.waitFor({ state: 'hidden' });
  });

  it('the readout shows the position, the true 16-bit value and the label under the mouse', async () => {
    const readout = page.getByRole('status', { name: 'Pixel under the cursor' });
    await page.mouse.move(...(await screenOf(40, 20)));
    await readout.getByText('x 40 y 20').waitFor();
    await readout.getByText(`value ${valueAt(40, 20)}`).waitFor({ timeout: 10_000 }); // once the image's samples are in
    await readout.getByText('background').waitFor();
    // Paint the pixel with the brush (class 1, "cell") and read its label.
    await page.keyboard.press('1');
    await page.keyboard.press('b');
    await page.mouse.down();
    await page.mouse.move(...(await screenOf(44, 20)));
    await page.mouse.up();
    await page.mouse.move(...(await screenOf(42, 20)));
    await readout.getByText(`value ${valueAt(42, 20)}`).waitFor();
    await readout.getByText('cell').waitFor();
    const shown = Number(await readout.locator('[data-values]').getAttribute('data-values'));
    assert.equal(shown, valueAt(42, 20));
    assert.ok(shown > 255, 'a 16-bit value, not an 8-bit display value');
  });

  it('the 16-bit contrast limits run over the full range', async () => {
    const upper = page.getByRole('slider', { name: 'Upper contrast limit' });
    assert.equal(await upper.getAttribute('max'), '65535');
  });

  it('H hides the mask (the painted pixels show the picture again) and shows it back', async () => {
    const canvas = page.getByRole('application', { name: 'Mask canvas' });
    await page.mouse.move(...(await screenOf(90, 60))); // the brush cursor away from the stroke
    const pixelsNow = async () => (await sharp(await canvas.screenshot()).removeAlpha().raw().toBuffer({ resolveWithObject: true })).data;
    const shownMask = await pixelsNow();
    await page.keyboard.press('h');
    await page.getByRole('checkbox', { name: 'Hide mask (H)' }).isChecked().then((checked) => assert.equal(checked, true));
    const hidden = await pixelsNow();
    let changed = 0;
    for (let i = 0; i < shownMask.length; i++) if (shownMask[i] !== hidden[i]) changed++;
    assert.ok(changed > 30, `${changed} colour values changed when the mask was hidden`);
    await page.keyboard.press('h');
    await page.getByRole('checkbox', { name: 'Hide mask (H)' }).isChecked().then((checked) => assert.equal(checked, false));
    assert.ok(Buffer.compare(await pixelsNow(), shownMask) === 0, 'showing the mask again draws the same pixels');
  });

  it('zoomed in, the minimap appears; a click on it moves the view there', async () => {
    const canvas = page.getByRole('application', { name: 'Mask canvas' });
    const minimap = page.getByLabel('Minimap: click or drag to move the view');
    assert.equal(await minimap.isVisible(), false, 'no minimap while the whole image is in view');
    const box = (await canvas.boundingBox())!;
    const centre: [number, number] = [box.x + box.width / 2, box.y + box.height / 2];
    await page.mouse.move(...centre);
    await page.mouse.wheel(0, -1200); // about 6x
    await minimap.waitFor();
    const map = (await minimap.locator('canvas').boundingBox())!;
    // 10% across and 20% down the minimap is image pixel (9.6, 12.8).
    await page.mouse.click(map.x + map.width * 0.1, map.y + map.height * 0.2);
    await page.mouse.move(...centre);
    const readout = page.getByRole('status', { name: 'Pixel under the cursor' });
    const [, x, y] = /x (\d+) y (\d+)/.exec((await readout.textContent()) ?? '')!.map(Number);
    assert.ok(Math.abs(x! - 9.6) <= 1.5 && Math.abs(y! - 12.8) <= 1.5, `centre of the view shows pixel ${x}, ${y}`);
    await page.keyboard.press('f');
    await minimap.waitFor({ state: 'hidden' });
  });
});
