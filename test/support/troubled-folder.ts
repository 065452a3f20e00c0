import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { bmpFile } from './bmp-file.js';

const [WIDTH, HEIGHT] = [32, 24];

async function grey(file: string, pixel: (x: number, y: number) => number, width = WIDTH, height = HEIGHT, format: 'png' | 'tiff' = 'png'): Promise<Buffer> {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = pixel(x, y);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const encoded = await sharp(data, { raw: { width, height, channels: 1 } })[format]().toBuffer();
  await fs.writeFile(file, encoded);
  return encoded;
}

/**
 * The folder of the issue-14 report, for a project with one class (values 0 and 1): one good
 * labelled image, one without a mask, three whose masks cannot be used (wrong size, value 7, a
 * corrupt PNG), four files that are no usable image (truncated PNG, text named .png, BMP, .txt),
 * and three images whose names clash (cell.png, cell.tif, sub/cell.png; import it recursively).
 */
export async function writeTroubledFolder(dir: string): Promise<{ images: string; masks: string }> {
  const images = path.join(dir, 'images');
  const masks = path.join(dir, 'masks');
  const names = ['good', 'plain', 'wrongsize', 'value7', 'corruptmask'];
  for (const [index, name] of names.entries()) await grey(path.join(images, `${name}.png`), (x, y) => (x * 7 + y * 3 + index * 11) % 256);
  await grey(path.join(masks, 'good.png'), (x) => (x > 16 ? 255 : 0));
  await grey(path.join(masks, 'wrongsize.png'), () => 0, WIDTH - 2, HEIGHT);
  await grey(path.join(masks, 'value7.png'), (x) => [0, 1, 7][x % 3]!);
  const mask = await grey(path.join(masks, 'corruptmask.png'), (x) => (x > 8 ? 1 : 0));
  await fs.writeFile(path.join(masks, 'corruptmask.png'), mask.subarray(0, Math.floor(mask.length / 2)));
  const good = await fs.readFile(path.join(images, 'good.png'));
  await fs.writeFile(path.join(images, 'truncated.png'), good.subarray(0, Math.floor(good.length / 2)));
  await fs.writeFile(path.join(images, 'notes.png'), 'these are my notes, not an image\n');
  await fs.writeFile(path.join(images, 'scan.bmp'), bmpFile());
  await fs.writeFile(path.join(images, 'readme.txt'), 'hello');
  await grey(path.join(images, 'cell.png'), (x) => x * 5);
  await grey(path.join(images, 'cell.tif'), (x) => x * 6, WIDTH, HEIGHT, 'tiff');
  await grey(path.join(images, 'sub', 'cell.png'), (x) => x * 4);
  return { images, masks };
}

/** Every file under a folder with the SHA-256 of its bytes (folders listed too), to show it unchanged. */
export async function folderDigest(root: string): Promise<string[]> {
  const lines: string[] = [];
  const visit = async (folder: string): Promise<void> => {
    for (const entry of (await fs.readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(folder, entry.name);
      const relative = path.relative(root, full);
      if (entry.isDirectory()) {
        lines.push(`${relative}/`);
        await visit(full);
      } else {
        lines.push(`${relative} ${createHash('sha256').update(await fs.readFile(full)).digest('hex')}`);
      }
    }
  };
  await visit(root);
  return lines;
}
