// The editor's tools in Chromium with real mouse and keyboard events, against the real host and files:
// the image list (jump, Next unlabelled, the least-confident offer after accepting a prediction),
// class add / rename / remove, delete with Undo, and the mask previews in the dataset grid.
import assert from 'node:assert/strict';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { ImportRequest } from '../app/contract/schemas.js';
import { importImages } from '../app/dataset/import-images.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import type { BrowserHost } from '../app/host/browser-host.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import type { Project } from '../app/project/project.js';
import { fittedImageToScreen } from './support/fitted-image.js';
import { WITHOUT_CHROMIUM, studioInChromium } from './support/studio-in-chromium.js';

const SIZE = 64;

describe('editor tools end to end', { skip: WITHOUT_CHROMIUM }, () => {
  let project: Project;
  const studio = studioInChromium({
    name: 'unet-editor-tools-',
    viewport: { width: 1280, height: 800 },
    prepare: async (work, services) => {
      // Six images: cell_000 to cell_003 with masks, cell_004 and cell_005 without.
      const synthetic = await generateSynthetic({ outDir: path.join(work, 'synthetic'), count: 6, width: SIZE, height: SIZE, seed: 3, classes: 2 });
      for (const mask of synthetic.masks.slice(4)) await rm(mask);
      project = await services.projects.create(path.join(work, 'project'), { classes: ['cell'] });
      await importImages(project, ImportRequest.parse({ project: project.root, images: [synthetic.imagesDir], masks: synthetic.masksDir }));
    },
  });
  const { problems } = studio;
  let host: BrowserHost, page: Page;
  before(() => void ({ host, page } = studio));

  const imageId = (name: string) => project.images.find((image) => image.originalName === name)!.id;
  const shows = (name: string) => page.getByRole('heading', { level: 1, name, exact: true }).waitFor();

  it('the image list jumps to any image, and Next unlabelled (button or N) walks the unlabelled ones', async () => {
    const first = project.images[0]!;
    await page.goto(`${host.url}#project=${encodeURIComponent(project.root)}&view=editor&image=${first.id}`);
    await shows(first.originalName);
    const list = page.getByRole('listbox', { name: 'Images' });
    assert.equal(await list.getByRole('option').count(), 6);
    await page.getByRole('button', { name: 'Next unlabelled' }).click();
    await shows('cell_004.png');
    await page.getByRole('application', { name: 'Mask canvas' }).click({ position: { x: 5, y: 5 }, button: 'middle' });
    await page.keyboard.press('n');
    await shows('cell_005.png');
    await page.keyboard.press('n');
    await shows('cell_004.png'); // wraps round
    await list.getByRole('option', { name: 'cell_002.png' }).click();
    await shows('cell_002.png');
    assert.equal(await list.getByRole('option', { selected: true }).textContent().then((text) => text?.trim()), 'cell_002.png');
    assert.equal(await page.getByRole('button', { name: 'Next least confident' }).isDisabled(), true, 'no predictions yet');
  });

  it('after accepting a prediction it offers the least confident unlabelled image next', async () => {
    // Two predicted images (as "Predict unlabelled" leaves them): b000 at 80 %, b001 at 40 %.
    for (const [name, confidence] of [['cell_004.png', 0.8], ['cell_005.png', 0.4]] as const) {
      const id = imageId(name);
      const labels = new Uint8Array(SIZE * SIZE).fill(1, 0, SIZE * 20);
      await sharp(labels, { raw: { width: SIZE, height: SIZE, channels: 1 } }).toColourspace('b-w').png().toFile(path.join(project.root, 'predictions', `${id}.png`));
      await project.recordPrediction(id, { file: `predictions/${id}.png`, meanConfidence: confidence, runId: 'test', at: new Date().toISOString() });
    }
    await page.reload();
    await shows('cell_002.png');
    await page.getByRole('button', { name: 'Next least confident' }).click();
    await shows('cell_005.png');
    await page.getByRole('button', { name: 'Accept all' }).click();
    const offer = page.getByRole('status').filter({ hasText: 'least sure of' });
    await offer.getByRole('button', { name: 'cell_004.png (80%)' }).click();
    await shows('cell_004.png');
    const mask = (await readMaskPng(path.join(project.root, 'masks', `${imageId('cell_005.png')}.png`))).labels;
    assert.equal(mask[SIZE * 5], 1, 'the accepted prediction is cell_005\'s mask');
  });

  it('adds and renames a class; removing one asks what its pixels become and rewrites the masks', async () => {
    await page.getByRole('option', { name: 'cell_001.png' }).click();
    await shows('cell_001.png');
    await page.getByRole('button', { name: 'Manage classes…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Classes' });
    await dialog.getByLabel('New class name').fill('nucleus');
    await dialog.getByRole('button', { name: 'Add class' }).click();
    await dialog.getByText('Added "nucleus".').waitFor();
    await dialog.getByLabel('Name of class 2').fill('nuclei');
    await dialog.getByRole('button', { name: 'Save names and colours' }).click();
    await dialog.getByText('Classes saved.').waitFor();
    const saved = JSON.parse(await readFile(path.join(project.root, 'project.json'), 'utf8')) as { classes: Array<{ name: string }> };
    assert.deepEqual(saved.classes.map((entry) => entry.name), ['background', 'cell', 'nuclei']);
    await dialog.getByRole('button', { name: 'Close' }).click();
    const classes = page.getByRole('radiogroup', { name: 'Class' });
    await classes.getByRole('radio', { name: /nuclei/ }).waitFor();

    // Paint with the new class (real mouse), then remove it: its pixels become unlabelled (255).
    await shows('cell_001.png');
    await classes.getByRole('radio', { name: /nuclei/ }).click();
    const canvas = page.getByRole('application', { name: 'Mask canvas' });
    await canvas.locator('canvas').first().waitFor();
    const toScreen = await fittedImageToScreen(canvas, SIZE);
    await page.mouse.move(...toScreen(10, 32));
    await page.mouse.down();
    for (let x = 12; x <= 54; x += 3) await page.mouse.move(...toScreen(x, 32));
    await page.mouse.up();
    const maskFile = path.join(project.root, 'masks', `${imageId('cell_001.png')}.png`);
    await waitFor(async () => (await readMaskPng(maskFile)).labels[32 * SIZE + 30] === 2, 'the stroke is saved as class 2');
    const before = (await readMaskPng(maskFile)).labels;

    await page.getByRole('button', { name: 'Manage classes…' }).click();
    await dialog.getByRole('button', { name: 'Remove…' }).nth(1).click();
    await dialog.getByText('Remove "nuclei"? Its pixels in every mask').waitFor();
    await dialog.getByRole('radio', { name: /unlabelled/ }).check();
    await dialog.getByRole('button', { name: 'Remove "nuclei"' }).click();
    await dialog.getByText(/Removed "nuclei"; 1 mask rewritten/).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    const after = (await readMaskPng(maskFile)).labels;
    for (let index = 0; index < after.length; index++) assert.equal(after[index], before[index] === 2 ? 255 : before[index], `pixel ${index}`);
    assert.equal(await classes.getByRole('radio', { name: /nuclei/ }).count(), 0);
  });

  it('deletes the shown image into the trash and Undo brings it back', async () => {
    await shows('cell_001.png');
    const id = imageId('cell_001.png');
    const imageFile = path.join(project.root, 'images', path.basename(project.image(id).file));
    await page.getByRole('button', { name: 'Delete image' }).click();
    await shows('cell_002.png'); // moved on to its neighbour
    await page.getByText("Deleted cell_001.png; kept in the project's trash").waitFor();
    assert.equal(await stat(imageFile).catch(() => null), null, 'the image file left images/');
    assert.equal(await page.getByRole('option', { name: 'cell_001.png' }).count(), 0);
    await page.getByRole('button', { name: 'Undo delete' }).click();
    await shows('cell_001.png');
    assert.ok((await stat(imageFile)).isFile());
    assert.equal(await page.getByRole('listbox', { name: 'Images' }).getByRole('option').count(), 6);
  });

  it('the dataset grid lays each mask\'s preview over its image', async () => {
    await page.getByRole('button', { name: 'Dataset' }).click();
    const labelled = project.images.filter((image) => image.mask !== null).length;
    await waitFor(
      async () => (await page.locator('[data-mask-preview]').evaluateAll((images) => images.filter((image) => (image as unknown as { naturalWidth: number }).naturalWidth > 0).length)) === labelled,
      `${labelled} mask previews decoded`,
    );
    const cell = page.locator(`[data-id="${imageId('cell_000.png')}"] [data-mask-preview]`);
    const { data, info } = await sharp(await cell.screenshot()).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const orange = Array.from({ length: info.width * info.height }, (_, index) => data.subarray(index * 3, index * 3 + 3)).filter(([r, g, b]) => r! > g! + 20 && g! > b! + 20).length;
    assert.ok(orange > 20, `the cell class's colour shows in the preview (${orange} pixels)`);
    assert.deepEqual(problems, []);
  });

  async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
});
