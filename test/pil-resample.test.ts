import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { pilBicubic8, pilBicubicFloat } from '../app/imaging/pil-resample.js';
import { createRandom } from '../app/random/prng.js';
import { pillowUnavailable, SYSTEM_PYTHON } from './support/pytorch-unet.js';

const missingPillow = await pillowUnavailable();

/** Resizes raw samples with Pillow itself (Image.frombytes -> resize(BICUBIC) -> tobytes). */
async function pillowResize(data: Uint8Array | Float32Array, mode: 'L' | 'RGB' | 'F', width: number, height: number, outWidth: number, outHeight: number): Promise<Buffer> {
  const script = [
    'import sys',
    'from PIL import Image',
    `image = Image.frombytes("${mode}", (${width}, ${height}), sys.stdin.buffer.read())`,
    `sys.stdout.buffer.write(image.resize((${outWidth}, ${outHeight}), Image.BICUBIC).tobytes())`,
  ].join('\n');
  const child = promisify(execFile)(SYSTEM_PYTHON, ['-c', script], { encoding: 'buffer', maxBuffer: 64 * 2 ** 20 });
  child.child.stdin!.end(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return (await child).stdout;
}

function randomImage(length: number, seed: number): Uint8Array {
  const random = createRandom(seed);
  // Smooth areas and hard edges both: the antialiasing kernel overshoots at edges, so clipping is exercised.
  return Uint8Array.from({ length }, (_, i) => (i % 37 < 18 ? Math.floor(random.next() * 256) : (i % 5) * 60));
}

test('pilBicubic8 resizes 8-bit grey and RGB images bit for bit as Pillow does (shrinking, odd sizes, one axis only)', { skip: missingPillow ?? false }, async () => {
  const cases = [
    { width: 500, height: 375, outWidth: 250, outHeight: 187 },
    { width: 97, height: 61, outWidth: 31, outHeight: 60 },
    { width: 64, height: 64, outWidth: 64, outHeight: 21 },
    { width: 80, height: 33, outWidth: 13, outHeight: 33 },
  ];
  for (const [index, size] of cases.entries()) {
    for (const channels of [1, 3]) {
      const data = randomImage(size.width * size.height * channels, 40 + index);
      const ours = pilBicubic8(data, size.width, size.height, channels, size.outWidth, size.outHeight);
      const theirs = await pillowResize(data, channels === 1 ? 'L' : 'RGB', size.width, size.height, size.outWidth, size.outHeight);
      assert.equal(ours.length, theirs.length);
      let differing = 0;
      for (let i = 0; i < ours.length; i++) differing += ours[i] === theirs[i] ? 0 : 1;
      assert.equal(differing, 0, `${size.width}x${size.height}x${channels} -> ${size.outWidth}x${size.outHeight}: ${differing} samples differ`);
    }
  }
});

test('pilBicubicFloat matches Pillow mode F within float rounding', { skip: missingPillow ?? false }, async () => {
  const data = Float32Array.from(randomImage(90 * 70, 7), (v) => v / 255);
  const ours = pilBicubicFloat(data, 90, 70, 1, 41, 29);
  const theirs = new Float32Array(new Uint8Array(await pillowResize(data, 'F', 90, 70, 41, 29)).buffer);
  assert.equal(ours.length, theirs.length);
  let worst = 0;
  for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!));
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
});
