// The editor's image list: which image "Next unlabelled" and "Next least confident" open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ImageEntry, ImageStatus } from '../app/contract/schemas.js';
import { leastConfidentUnlabelled, nextUnlabelled } from '../app/editor/next-image.js';

function image(id: string, status: ImageStatus, confidence: number | null = null): ImageEntry {
  return {
    id, file: `images/${id}.png`, page: 0, originalName: `${id}.png`, contentHash: id, format: 'png', width: 8, height: 8, channels: 1, bitDepth: 8,
    status, split: 'auto', tags: [], mask: null, addedAt: '',
    prediction: confidence === null ? null : { file: `predictions/${id}.png`, meanConfidence: confidence, runId: 'r', at: '' },
  };
}

const images = [image('a', 'labelled'), image('b', 'unlabelled'), image('c', 'predicted', 0.9), image('d', 'reviewed', 0.1), image('e', 'predicted', 0.6), image('f', 'partial')];
const order = ['a', 'b', 'c', 'd', 'e', 'f'];

test('next unlabelled walks on in the editor order from the shown image, wrapping round, skipping painted images', () => {
  assert.equal(nextUnlabelled(images, order, 'a'), 'b');
  assert.equal(nextUnlabelled(images, order, 'b'), 'c', 'a predicted image has no human mask yet');
  assert.equal(nextUnlabelled(images, order, 'e'), 'b', 'past the end it starts again; partly labelled is not unlabelled');
  assert.equal(nextUnlabelled(images, order, null), 'b');
  assert.equal(nextUnlabelled(images, ['a', 'b'], 'b'), null, 'the shown image itself is not "next"');
});

test('next least confident is the dataset\'s least-confident-first order over unlabelled images with a prediction', () => {
  assert.equal(leastConfidentUnlabelled(images, 'a')?.id, 'e', 'd is less sure but a human reviewed it');
  assert.equal(leastConfidentUnlabelled(images, 'e')?.id, 'c', 'never the image just finished');
  assert.equal(leastConfidentUnlabelled(images.filter((entry) => entry.id !== 'c'), 'e'), null, 'no other predicted image');
});
