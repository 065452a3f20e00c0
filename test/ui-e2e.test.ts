import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { fittedImageToScreen } from './support/fitted-image.js';
import { thumbnailsDecoded } from './support/page-waits.js';
import { WITHOUT_CHROMIUM, studioInChromium } from './support/studio-in-chromium.js';
import { folderDigest, writeTroubledFolder } from './support/troubled-folder.js';
import { generateSynthetic, type SyntheticResult } from '../app/dataset/synthetic.js';
import type { BrowserHost } from '../app/host/browser-host.js';
import { processAlive } from '../app/jobs/process-alive.js';
import { readMaskPng } from '../app/masks/mask-png.js';

const IMAGE_COUNT = 6;
const SIZE = 64;

/**
 * The whole studio journey in Chromium, as a user clicks through it, against the real host and
 * real files: create a project, import, paint and undo in the editor, train, segment, export.
 */
describe('studio UI end to end', { skip: WITHOUT_CHROMIUM }, () => {
  let synthetic: SyntheticResult;
  let fresh: SyntheticResult;
  const studio = studioInChromium({
    name: 'unet-ui-e2e-',
    prepare: async (work) => {
      synthetic = await generateSynthetic({ outDir: path.join(work, 'synthetic'), count: IMAGE_COUNT, width: SIZE, height: SIZE, seed: 5, classes: 2 });
      fresh = await generateSynthetic({ outDir: path.join(work, 'new'), count: 2, width: SIZE, height: SIZE, seed: 9, classes: 2 });
    },
  });
  const { problems } = studio;
  let work: string, host: BrowserHost, page: Page;
  before(() => void ({ work, host, page } = studio));

  const projectDir = () => path.join(work, 'project');

  it('opens on the start view and creates a project', async () => {
    await page.goto(host.url);
    await page.getByRole('heading', { name: 'Create a project' }).waitFor();
    // A relative path is refused with the full path suggested, never resolved against the host's folder.
    await page.locator('#create-path').fill('cells-project');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByText(`"cells-project" is not a full path, and the app does not guess which folder it is in. Give the full path, e.g. ${path.join(work, 'cells-project')}`).waitFor();
    await page.locator('#create-path').fill(projectDir());
    await page.getByLabel('Name (optional)').fill('Cells e2e');
    await page.getByLabel('Classes, comma-separated').fill('cell');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Cells e2e' }).waitFor();
    await page.getByText('No images yet').waitFor();
    assert.ok(existsSync(path.join(projectDir(), 'project.json')));
  });

  it('previews how images pair with masks, imports them with progress, and shows the grid', async () => {
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await page.locator('#import-images').fill(synthetic.imagesDir);
    await page.locator('#import-masks').fill(synthetic.masksDir);
    const preview = page.getByRole('region', { name: 'Import preview' });
    await preview.getByText(`${IMAGE_COUNT} with masks`).waitFor();
    assert.equal(await preview.locator('tbody tr').count(), IMAGE_COUNT);
    await page.getByRole('button', { name: `Import ${IMAGE_COUNT} images` }).click();
    await page.getByText(`Imported ${IMAGE_COUNT} images`).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    const cells = page.getByRole('grid', { name: 'Images' }).getByRole('gridcell');
    await thumbnailsDecoded(page, IMAGE_COUNT);
    assert.equal(await cells.count(), IMAGE_COUNT);
    assert.equal(await page.locator('[data-count="labelled"]').textContent(), String(IMAGE_COUNT));
  });

  it('the import preview checks every file before copying: lists a truncated PNG and a wrong-size mask, and Cancel leaves the project folder unchanged', async () => {
    const troubled = await writeTroubledFolder(path.join(work, 'troubled'));
    const before = await folderDigest(projectDir());
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await page.locator('#import-images').fill(troubled.images);
    await page.locator('#import-masks').fill(troubled.masks);
    await page.getByLabel('Include sub-folders').click();
    const preview = page.getByRole('region', { name: 'Import preview' });
    const row = (name: string) => preview.getByRole('row').filter({ has: page.getByRole('cell', { name, exact: true }) });
    await row('truncated.png').waitFor();
    assert.equal(await row('truncated.png').locator('.verdict').textContent(), 'skipped');
    assert.match(String(await row('truncated.png').locator('.why').textContent()), /truncated or corrupt PNG/);
    assert.equal(await row('wrongsize.png').locator('.verdict').textContent(), 'imported unlabelled');
    assert.match(String(await row('wrongsize.png').locator('.why').textContent()), /mask is 30x24 but its image is 32x24/);
    assert.match(String(await row('cell.tif').textContent()), /cell-2\s*same name as cell\.png, sub\/cell\.png/);
    // The button counts what will really be imported: 8 of the 12 files.
    await page.getByRole('button', { name: 'Import 8 images' }).waitFor();
    assert.deepEqual(await folderDigest(projectDir()), before, 'the preview copied nothing');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('dialog', { name: 'Import images' }).waitFor({ state: 'hidden' });
    assert.deepEqual(await folderDigest(projectDir()), before, 'Cancel left the project folder as it was');
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await page.getByLabel('Include sub-folders').click();
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  });

  it('paints a stroke that lands in the mask file in that region, then undoes and redoes it', async () => {
    const first = page.getByRole('gridcell').first();
    const imageId = String(await first.getAttribute('data-id'));
    const maskFile = path.join(projectDir(), 'masks', `${imageId}.png`);
    const original = (await readMaskPng(maskFile)).labels;
    await first.dblclick();
    const canvas = page.getByRole('application', { name: 'Mask canvas' });
    await canvas.locator('canvas').first().waitFor();
    await page.getByRole('radio', { name: /cell/ }).click();
    const toScreen = await fittedImageToScreen(canvas, SIZE);
    await page.mouse.move(...toScreen(10, 32));
    await page.mouse.down();
    for (let x = 12; x <= 54; x += 3) await page.mouse.move(...toScreen(x, 32));
    await page.mouse.up();
    const saved = page.getByRole('status').filter({ hasText: /^Saved$/ });
    await saved.waitFor();

    const painted = (await readMaskPng(maskFile)).labels;
    const radius = 8;
    let changed = 0;
    for (let i = 0; i < painted.length; i++) {
      if (painted[i] === original[i]) continue;
      changed++;
      const x = i % SIZE;
      const y = Math.floor(i / SIZE);
      assert.ok(x >= 10 - radius - 1 && x <= 54 + radius + 1 && y >= 32 - radius - 1 && y <= 32 + radius + 1, `pixel ${x},${y} changed outside the stroke`);
      assert.equal(painted[i], 1);
    }
    assert.ok(changed > 20, `the stroke changed ${changed} pixels`);

    await page.keyboard.press('Control+z');
    await page.locator('.save[data-state="saved"]').waitFor();
    await waitForMask(maskFile, original);
    await page.keyboard.press('Control+Shift+Z');
    await waitForMask(maskFile, painted);

    // Two quick presses of → load the image two further on (the first load is abandoned).
    await page.locator('.save[data-state="saved"]').waitFor();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.getByText(`3 of ${IMAGE_COUNT}`).waitFor();
    await page.locator('.loading').waitFor({ state: 'detached' });
    await page.keyboard.press('ArrowLeft');
    await page.getByText(`2 of ${IMAGE_COUNT}`).waitFor();
  });

  it('Live: a model trains while the user paints, its overlay appears within 30 s, frames stay under 50 ms, and switching off ends its process', async () => {
    const canvas = page.getByRole('application', { name: 'Mask canvas' });
    await canvas.locator('canvas').first().waitFor();
    const acceptAll = page.getByRole('button', { name: 'Accept all' });
    assert.equal(await acceptAll.count(), 0, 'this image has no prediction before Live');
    await page.getByRole('button', { name: /^Live off$/ }).click();
    const pid = Number(await page.locator('[data-live-pid]').getAttribute('data-live-pid'));
    assert.ok(pid > 0 && processAlive(pid));
    await page.getByText(/^Step [1-9]/).waitFor({ timeout: 60_000 }); // training is under way

    const toScreen = await fittedImageToScreen(canvas, SIZE);
    await page.evaluate(() => performance.clearMeasures('editor-frame'));
    const strokesDone = Date.now();
    for (const [label, y] of [[/cell/, 20], [/background/, 40], [/cell/, 52]] as const) {
      await page.getByRole('radio', { name: label }).click();
      await page.mouse.move(...toScreen(6, y));
      await page.mouse.down();
      for (let x = 8; x <= 58; x += 2) await page.mouse.move(...toScreen(x, y));
      await page.mouse.up();
    }
    const frames = await page.evaluate(() => performance.getEntriesByName('editor-frame').map((entry) => entry.duration));
    assert.ok(frames.length >= 10, `${frames.length} frames measured`);
    assert.ok(Math.max(...frames) < 50, `painting frames while Live trains: longest ${Math.max(...frames).toFixed(1)} ms over ${frames.length} frames`);
    await acceptAll.waitFor({ timeout: 30_000 });
    assert.ok(Date.now() - strokesDone < 30_000 + 5_000);

    await page.getByRole('button', { name: /^Live on$/ }).click();
    await page.getByRole('button', { name: /^Live off$/ }).waitFor();
    const deadline = Date.now() + 15_000;
    while (processAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(processAlive(pid), false, `live process ${pid} ended when Live was switched off`);
  });

  it('contrast limits change the displayed pixels; Reset shows the picture as stored', async () => {
    const canvas = page.getByRole('application', { name: 'Mask canvas' });
    const reset = page.getByRole('button', { name: 'Reset' });
    await reset.hover();
    const meanOf = async () => {
      const { data } = await sharp(await canvas.screenshot()).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { data, mean: data.reduce((sum, value) => sum + value, 0) / data.length };
    };
    // Keyboard on the slider (the canvas loses its focus ring before the first picture): White at 1 turns every non-black value white.
    await page.getByRole('slider', { name: 'Upper contrast limit' }).focus();
    const before = await meanOf();
    await page.keyboard.press('Home');
    await page.getByText('White at 1').waitFor();
    const bright = await meanOf();
    assert.ok(bright.mean > before.mean + 20, `mean ${before.mean} → ${bright.mean}`);
    await reset.click();
    await page.getByText('White at 255').waitFor();
    const restored = await meanOf();
    assert.ok(Buffer.compare(restored.data, before.data) === 0, 'Reset shows the same pixels as before');
    await page.getByRole('button', { name: 'Auto' }).click();
    const low = Number((await page.getByText(/^Black at/).textContent())!.replace(/\D/g, ''));
    const high = Number((await page.getByText(/^White at/).textContent())!.replace(/\D/g, ''));
    assert.ok(low < high && (low > 0 || high < 255), `auto limits ${low}..${high}`);
    await reset.click();
    await page.locator('.save[data-state="saved"]').waitFor();
  });

  it('keeps the place in the address without the token: reload, Back/Forward and a copied link return to the same image', async () => {
    await page.locator('.loading').waitFor({ state: 'detached' });
    const address = new URL(page.url());
    assert.equal(address.search, '', 'the access token left the address');
    const imageId = new URLSearchParams(address.hash.slice(1)).get('image');
    assert.equal(address.hash, `#${new URLSearchParams({ project: projectDir(), view: 'editor', image: String(imageId) })}`);
    const shown = async (target: Page) => {
      await target.getByText(`2 of ${IMAGE_COUNT}`).waitFor();
      await target.locator('.loading').waitFor({ state: 'detached' });
      assert.equal(await target.locator('.topbar h1.name').textContent(), name);
    };
    const name = await page.locator('.topbar h1.name').textContent();
    assert.equal(name, 'cell_001.png');
    await page.reload();
    await shown(page);
    // Another view is a new history entry: Back returns to the image, Forward to the view.
    await page.getByRole('button', { name: 'Training' }).click();
    await page.getByRole('heading', { name: 'Training' }).waitFor();
    await page.goBack();
    await shown(page);
    await page.goForward();
    await page.getByRole('heading', { name: 'Training' }).waitFor();
    await page.goBack();
    await shown(page);
    // A copied link opens the same place in another tab of this browser.
    const tab = await page.context().newPage();
    await tab.goto(page.url());
    await shown(tab);
    await tab.close();
  });

  it('imports images without masks; "Predict unlabelled" is disabled and says why while there is no model', async () => {
    await page.getByRole('button', { name: 'Dataset' }).click();
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await page.locator('#import-images').fill(fresh.imagesDir);
    await page.locator('#import-masks').fill('');
    await page.getByRole('button', { name: 'Import 2 images' }).click();
    await page.getByText('Imported 2 images').waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    const predict = page.getByRole('button', { name: 'Predict unlabelled' });
    await page.locator('#predict-reason').waitFor();
    assert.ok(await predict.isDisabled());
    assert.equal(await page.locator(`#${await predict.getAttribute('aria-describedby')}`).textContent(), 'No model yet: train one first (Training view).');
  });

  it('refuses invalid training values with field errors, then trains and updates progress and charts', async () => {
    await page.getByRole('button', { name: 'Training' }).click();
    // The auto preset is the default: its plan for this project and the reasons show before Start.
    const budget = page.locator('#timeBudgetSeconds');
    while ((await budget.inputValue()) === '') await page.waitForTimeout(50);
    assert.equal(await page.locator('#preset').inputValue(), 'auto');
    assert.equal(await budget.inputValue(), '30');
    const chose = await page.getByRole('list', { name: 'What the auto preset chose' }).getByRole('listitem').allTextContents();
    for (const setting of ['patch', 'base', 'batch size', 'epochs', 'augmentation']) assert.ok(chose.some((line) => line.startsWith(setting)), `${setting} in ${chose.join(' | ')}`);
    await page.locator('#preset').selectOption('fast');
    const epochs = page.locator('#epochs');
    while ((await epochs.inputValue()) === '') await page.waitForTimeout(50);
    const start = page.getByRole('button', { name: 'Start training' });
    await epochs.fill('0');
    await page.locator('#learningRate').fill('fast');
    await page.locator('#batchSize').fill('2.5');
    assert.equal(await page.locator('#epochs-note').textContent(), 'Must be at least 1.');
    assert.equal(await page.locator('#learningRate-note').textContent(), 'Enter a number.');
    assert.equal(await page.locator('#batchSize-note').textContent(), 'Must be a whole number.');
    assert.ok(await start.isDisabled(), 'a run cannot start with invalid values');
    assert.equal(await epochs.getAttribute('aria-invalid'), 'true');

    await epochs.fill('2');
    await page.locator('#learningRate').fill('0.002');
    await page.locator('#batchSize').fill('4');
    await page.locator('#scale').fill('1');
    // No image held out for validation is announced before the run starts.
    const noValidation = page.locator('[data-warning="no-validation"]');
    await page.locator('#validationPercent').fill('0');
    await noValidation.getByText(`No validation images: ${IMAGE_COUNT} labelled images all train`).waitFor();
    await page.locator('#validationPercent').fill('30');
    await noValidation.waitFor({ state: 'detached' });
    await page.locator('#base').selectOption('8');
    assert.deepEqual(await page.locator('#backend option').evaluateAll((options) => options.map((option) => option.getAttribute('value'))), ['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm']);
    assert.equal(await page.locator('.field-error').count(), 0);
    await start.click();
    await page.getByRole('progressbar', { name: 'Training progress' }).waitFor();
    await page.getByText(/Epoch \d+ \/ 2/).waitFor({ timeout: 60_000 });
    // uPlot draws the step losses as they arrive, then the epoch metrics.
    await page.locator('.u-wrap canvas').nth(2).waitFor();
    await page.locator('table.data').getByText('completed').waitFor({ timeout: 150_000 });
    await page.getByText('Validation predictions · epoch 2').waitFor({ timeout: 15_000 });
    assert.match(String(await page.locator('.backend.compute').textContent()), /wasm|tfjs/);
    assert.match(String(await page.locator('.batch-plan').textContent()), /batch \d+( as \d+ x \d+| on \d+ replicas x \d+(, each as \d+ x \d+)?)? · \d+×\d+ px/);
    // Every faster backend tried before the one used is listed with why it was skipped, as run.json has it.
    const runId = String(await page.locator('#status-title').textContent()).replace('Run ', '');
    const summary = JSON.parse(await readFile(path.join(projectDir(), 'runs', runId, 'run.json'), 'utf8')) as { backend: { skipped: Array<{ name: string; reason: string }> } };
    assert.deepEqual(summary.backend.skipped.map((skipped) => skipped.name), ['tfjs-node-gpu', 'webgpu', 'tfjs-node']);
    assert.deepEqual(
      await page.getByRole('list', { name: 'Backends skipped' }).getByRole('listitem').allTextContents(),
      summary.backend.skipped.map((skipped) => `skipped ${skipped.name}: ${skipped.reason}`),
    );
    // Hovering a chart shows the values under the cursor: whole epochs, the learning rate in scientific notation.
    const rateChart = page.getByRole('figure', { name: 'Learning rate' });
    const plot = (await rateChart.locator('.u-over').boundingBox())!;
    await page.mouse.move(plot.x + 2, plot.y + plot.height / 2);
    const values = rateChart.locator('.u-legend .u-value');
    await values.first().getByText('1', { exact: true }).waitFor();
    assert.match(String(await values.nth(1).textContent()), /^\d(\.\d+)?e-\d+$/);
  });

  it('names a run the user stopped "stopped by you", and charts the whole history of the run it resumes', async () => {
    await page.locator('#epochs').fill('30');
    await page.getByRole('button', { name: 'Start training' }).click();
    const row = page.locator('table.data tbody tr').first();
    await row.getByText(/^1 \/ 30$/).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    const badge = page.locator('.status-head .badge');
    await badge.getByText('stopped by you').waitFor({ timeout: 60_000 });
    const stoppedAt = Number(/^(\d+) \//.exec(String(await row.locator('td').nth(2).textContent()))![1]);
    await page.getByRole('button', { name: /^Resume / }).click();
    await row.getByText(`${stoppedAt + 1} / 30`).waitFor({ timeout: 60_000 });
    // The leftmost point of the validation chart is still epoch 1, recorded before the resume.
    const chart = page.getByRole('figure', { name: 'Validation' });
    const plot = (await chart.locator('.u-over').boundingBox())!;
    await page.mouse.move(plot.x + 2, plot.y + plot.height / 2);
    await chart.locator('.u-legend .u-value').first().getByText('1', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await badge.getByText('stopped by you').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: /^Resume / }).waitFor();
  });

  it('segments a folder and shows the results in the gallery', async () => {
    // A trained model enables predictions.
    await page.getByRole('button', { name: 'Dataset' }).click();
    await page.locator('#predict-reason').waitFor({ state: 'detached' });
    assert.ok(await page.getByRole('button', { name: 'Predict unlabelled' }).isEnabled());
    await page.getByRole('button', { name: 'Segment folder' }).click();
    // A missing input folder is named as such, before any output is written.
    const missing = path.join(work, 'no-such-folder');
    await page.locator('#segment-input').fill(missing);
    await page.locator('#segment-output').fill(path.join(work, 'segmented'));
    await page.getByRole('button', { name: 'Segment', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: `The input folder ${missing} does not exist` }).waitFor({ timeout: 30_000 });
    assert.ok(!existsSync(path.join(work, 'segmented', 'summary.csv')));
    await page.locator('#segment-input').fill(fresh.imagesDir);
    await page.locator('#segment-output').fill(path.join(work, 'segmented'));
    await page.getByRole('button', { name: 'Segment', exact: true }).click();
    await page.getByText(/Segmented 2 images/).waitFor({ timeout: 60_000 });
    await page.getByRole('list', { name: 'Segmentation results' }).getByRole('listitem').first().waitFor();
  });

  it('exports the trained model as ONNX and as a bioimage.io package', async () => {
    await page.getByRole('button', { name: 'Export' }).click();
    await page.getByText('Model card (written beside the model)').waitFor();
    const out = path.join(work, 'exported');
    await page.locator('#model-out').fill(path.join(out, 'cells.onnx'));
    await page.getByRole('button', { name: 'Export ONNX' }).click();
    await page.getByText(/Exported run/).waitFor({ timeout: 60_000 });
    assert.ok((await readdir(out)).includes('cells.onnx'));
    // Every format the contract knows is offered; the bioimage.io package exports from the same form.
    assert.deepEqual(await page.getByRole('radiogroup', { name: 'Format' }).getByRole('radio').evaluateAll((radios) => radios.map((radio) => radio.getAttribute('value'))), ['onnx', 'tfjs', 'bioimageio', 'triton']);
    await page.getByRole('radio', { name: /bioimage\.io package/ }).check();
    await page.locator('#model-out').fill(path.join(out, 'cells.zip'));
    // The package's model card (cells.md) would replace the ONNX export's: the page asks first.
    const asked = new Promise<string>((resolve) => page.once('dialog', (dialog) => void dialog.accept().then(() => resolve(dialog.message()))));
    await page.getByRole('button', { name: 'Export bioimage.io package' }).click();
    assert.match(await asked, /cells\.md exists already[\s\S]*Replace it\?/);
    await page.getByText(/cells\.zip/).waitFor({ timeout: 60_000 });
    assert.ok((await readdir(out)).includes('cells.zip'));
  });

  it('after a host restart (new token) says so, takes the new link and returns to the same place', async () => {
    const place = new URL(page.url()).hash;
    assert.match(place, /view=export/);
    const port = host.port;
    await host.close();
    await page.getByRole('alertdialog', { name: 'Connection to U-Net Studio lost' }).waitFor();
    host = await studio.startHost(port);
    await page.getByRole('alertdialog', { name: 'U-Net Studio was restarted' }).waitFor();
    await page.getByLabel('Link printed by unet-studio serve').fill(host.url);
    await page.getByRole('button', { name: 'Continue here' }).click();
    await page.getByText('Model card (written beside the model)').waitFor();
    assert.equal(new URL(page.url()).hash, place);
    assert.equal(new URL(page.url()).search, '');
    // The page refused by the old host's socket is expected noise of the restart; nothing else went wrong.
    assert.deepEqual(problems.filter((problem) => !/WebSocket|ERR_CONNECTION_REFUSED|401/.test(problem)), []);
  });
});

async function waitForMask(file: string, expected: Uint8Array): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const labels = (await readMaskPng(file)).labels;
    if (Buffer.compare(Buffer.from(labels), Buffer.from(expected)) === 0) return;
    if (Date.now() > deadline) assert.fail(`${file} did not reach the expected labels`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
