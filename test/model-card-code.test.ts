import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { renderSyntheticSample } from '../app/dataset/synthetic.js';
import { initialiseBackend } from '../app/engine/backend/select-backend.js';
import { exportModel } from '../app/export/export-model.js';
import { readMaskPng } from '../app/masks/mask-png.js';
import { runWithRandomModel } from './support/random-model.js';
import { runCli } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';
import { tinyProject } from './support/tiny-project.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The Python that runs the card's Python program: a venv with onnxruntime, numpy and Pillow, made by
 * .ci/run (`python3 -m venv .venv && .venv/bin/pip install onnxruntime numpy pillow`), or the one
 * UNET_STUDIO_CARD_PYTHON names.
 */
const CARD_PYTHON = process.env.UNET_STUDIO_CARD_PYTHON ?? path.join(REPO, '.venv', 'bin', 'python');
const missingPython = await run(CARD_PYTHON, ['-c', 'import onnxruntime, numpy, PIL']).then(
  () => null,
  () => `${CARD_PYTHON} cannot import onnxruntime, numpy and PIL (run .ci/run, or: python3 -m venv .venv && .venv/bin/pip install onnxruntime numpy pillow)`,
);

before(async () => {
  await initialiseBackend('wasm');
});

/** The code block of `language` that follows the line starting with `label`. */
function codeBlock(markdown: string, label: string, language: string): string {
  const start = markdown.indexOf(`\n${label}`);
  assert.ok(start >= 0, `the card has a "${label}" section`);
  const open = markdown.indexOf(`\`\`\`${language}\n`, start);
  const close = markdown.indexOf('\n```', open + 1);
  assert.ok(open > 0 && close > open, `a ${language} block follows "${label}"`);
  return markdown.slice(open + language.length + 4, close + 1);
}

/** Three images the programs must read as segment does: 8-bit grey, 8-bit RGBA (odd size), 16-bit grey. */
async function testImages(dir: string): Promise<string[]> {
  const folder = path.join(dir, 'images');
  await fs.mkdir(folder);
  const cells = (seed: number, width: number, height: number) => renderSyntheticSample(seed, width, height, 2).image;
  const grey = cells(1, 61, 45);
  await sharp(Uint8Array.from(grey, (v) => Math.round(255 * v)), { raw: { width: 61, height: 45, channels: 1 } }).png().toFile(path.join(folder, 'grey8.png'));
  const colour = cells(2, 101, 77);
  const rgba = new Uint8Array(101 * 77 * 4);
  colour.forEach((v, p) => rgba.set([Math.round(255 * v), Math.round(180 * v), Math.round(255 * (1 - v) * 0.4), 200], p * 4));
  await sharp(rgba, { raw: { width: 101, height: 77, channels: 4 } }).png().toFile(path.join(folder, 'rgba8.png'));
  const deep = cells(3, 70, 58);
  await sharp(Uint16Array.from(deep, (v) => 2000 + Math.round(30000 * v)), { raw: { width: 70, height: 58, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toFile(path.join(folder, 'grey16.png'));
  return ['grey8.png', 'rgba8.png', 'grey16.png'].map((name) => path.join(folder, name));
}

async function agreement(a: string, b: string): Promise<number> {
  const [x, y] = [await readMaskPng(a), await readMaskPng(b)];
  assert.deepEqual([x.width, x.height], [y.width, y.height]);
  let same = 0;
  for (let p = 0; p < x.labels.length; p++) same += x.labels[p] === y.labels[p] ? 1 : 0;
  return same / x.labels.length;
}

for (const variant of [
  { name: 'binary grey model trained at scale 0.5, probabilities output', classes: 2 as const, channels: 1 as const, sizing: { mode: 'scale' as const, scale: 0.5 }, probabilities: true },
  { name: '3-class RGB model trained at 48x40, logits only', classes: 3 as const, channels: 3 as const, sizing: { mode: 'size' as const, width: 48, height: 40 }, probabilities: false },
]) {
  test(`the model card's Node and Python programs, run as written, segment like \`segment\` on >= 99.9% of pixels (${variant.name})`, async (t) => {
    const dir = await tempDir(t);
    const project = await tinyProject(path.join(dir, 'p'), { count: 4, classes: variant.classes });
    (await runWithRandomModel(project, { base: 8, upsampling: 'transpose', inputChannels: variant.channels }, 17, { sizing: variant.sizing })).network.dispose();
    const exportDir = path.join(dir, 'export');
    await exportModel(project, { format: 'onnx', out: path.join(exportDir, 'cells.onnx'), probabilities: variant.probabilities });
    const card = await fs.readFile(path.join(exportDir, 'cells.md'), 'utf8');
    const images = await testImages(dir);

    const segmented = path.join(dir, 'segmented');
    const cli = await runCli(['segment', '--model', path.join(exportDir, 'cells.onnx'), '--input', path.dirname(images[0]!), '--output', segmented]);
    assert.equal(cli.code, 0, cli.stderr);

    // The programs exactly as the card prints them, run beside the model as the card says.
    await fs.writeFile(path.join(exportDir, 'segment.mjs'), codeBlock(card, 'Node.js', 'js'));
    await fs.writeFile(path.join(exportDir, 'segment.py'), codeBlock(card, 'Python', 'python'));
    await fs.symlink(path.join(REPO, 'node_modules'), path.join(exportDir, 'node_modules'));
    const compare = async (program: string, command: string) => {
      for (const image of images) {
        const name = path.basename(image, '.png');
        const mask = path.join(dir, `${name}_${program}.png`);
        await run(command, [`segment.${program === 'node' ? 'mjs' : 'py'}`, image, mask], { cwd: exportDir });
        const fraction = await agreement(mask, path.join(segmented, `${name}_labels.png`));
        t.diagnostic(`${name}: ${program} program ${(100 * fraction).toFixed(3)}% of pixels as segment`);
        assert.ok(fraction >= 0.999, `${name}: the ${program} program agrees with segment on ${(100 * fraction).toFixed(3)}%`);
      }
    };
    await t.test('Node program', () => compare('node', process.execPath));
    await t.test('Python program', { skip: missingPython ?? false }, () => compare('python', CARD_PYTHON));
    const labels = await readMaskPng(path.join(segmented, 'grey8_labels.png'));
    assert.ok(new Set(labels.labels).size >= 2, 'segment finds more than one class, so agreement means something');
  });
}

test("the TF.js model card's program loads the model with plain @tensorflow/tfjs (no file:// loader needed) and predicts", async (t) => {
  const dir = await tempDir(t);
  const project = await tinyProject(path.join(dir, 'p'), { count: 4 });
  (await runWithRandomModel(project, { base: 8, upsampling: 'bilinear', inputChannels: 1 }, 4)).network.dispose();
  const out = path.join(dir, 'web');
  await exportModel(project, { format: 'tfjs', out, probabilities: true });
  const card = await fs.readFile(path.join(out, 'model-card.md'), 'utf8');
  await fs.writeFile(path.join(out, 'load.mjs'), codeBlock(card, 'TensorFlow.js', 'js'));
  await fs.symlink(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'));
  const { stdout } = await run(process.execPath, ['load.mjs'], { cwd: out });
  assert.match(stdout, /mask 64x64/);
  // tfjs-node (not installable here) brings a file:// loader; the card names that way too.
  assert.match(card, /tfjs-node.*tf\.loadLayersModel\('file:\/\/'/);
});
