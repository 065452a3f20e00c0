import type { Locator } from 'playwright-core';

/** MaskStage.fit (renderer/src/views/editor/mask-stage.ts) shows a whole image on 96% of the canvas, centred. */
const FIT_SHARE = 0.96;

/**
 * Where image point (x, y) lies on the screen while a `width` x `height` image is fitted in the
 * editor's canvas (`canvas`: the 'Mask canvas' application); pixel x spans x to x + 1.
 */
export async function fittedImageToScreen(canvas: Locator, width: number, height = width): Promise<(x: number, y: number) => [number, number]> {
  const box = await canvas.boundingBox();
  if (box === null) throw new Error('The mask canvas is not on the page.');
  const scale = Math.min(box.width / width, box.height / height) * FIT_SHARE;
  const left = box.x + (box.width - width * scale) / 2;
  const top = box.y + (box.height - height * scale) / 2;
  return (x, y) => [left + x * scale, top + y * scale];
}
