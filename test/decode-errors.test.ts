import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { readRaster } from '../app/imaging/read-image.js';
import { tempDir } from './support/temp-dir.js';

test('truncated PNGs and JPEGs decoded in parallel each get their own libvips message (issue 18.6)', async (t) => {
  const dir = await tempDir(t);
  const picture = sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080' } });
  const png = await picture.clone().png().toBuffer();
  const jpeg = await picture.clone().jpeg().toBuffer();
  const files: string[] = [];
  for (let i = 0; i < 24; i++) {
    for (const [extension, bytes] of [['png', png], ['jpg', jpeg]] as const) {
      const file = path.join(dir, `cut${i}.${extension}`);
      await fs.writeFile(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      files.push(file);
    }
  }
  // Before the fix about one message in five named the other format; three rounds make a miss very unlikely.
  for (let round = 0; round < 3; round++) {
    const messages = await Promise.all(files.map((file) => readRaster(file, { maxPixels: 1e6 }).then(() => 'decoded', (err: Error) => err.message)));
    for (const [index, message] of messages.entries()) {
      const file = files[index]!;
      assert.match(message, new RegExp(`${path.basename(file).replace('.', '\\.')}: truncated or corrupt`), file);
      if (file.endsWith('.png')) assert.doesNotMatch(message, /jpe?g/i, `${file}: ${message}`);
      else assert.doesNotMatch(message, /png/i, `${file}: ${message}`);
    }
  }
});
