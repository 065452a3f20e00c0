import type { ContractClient } from '../../../../app/contract/client.js';
import { type ImageEntry, colourChannelCount } from '../../../../app/contract/schemas.js';
import { type ImageSamples, samplesFromRgba } from '../../../../app/editor/display-pixels.js';
import { base64ToBytes, inflate } from '../../lib/bytes.js';

/**
 * The shown image's stored values, for contrast limits on its full range and the cursor readout.
 * An 8-bit picture's display image holds its values unchanged, so they are read from the picture;
 * a 16-bit image's come from the host (its display image is only an 8-bit rendering).
 */
export async function loadSamples(client: ContractClient, project: string, entry: ImageEntry, picture: ImageBitmap, signal: AbortSignal): Promise<ImageSamples> {
  if (entry.bitDepth === 8) {
    const canvas = new OffscreenCanvas(picture.width, picture.height);
    const context = canvas.getContext('2d', { willReadFrequently: true })!;
    context.drawImage(picture, 0, 0);
    const { data } = context.getImageData(0, 0, picture.width, picture.height);
    return samplesFromRgba(data, picture.width, picture.height, colourChannelCount(entry.channels));
  }
  const answer = await client.invoke('images.samples', { project, id: entry.id }, { signal });
  if (!answer.ok) throw new Error(answer.error.message);
  const payload = answer.value;
  const bytes = await inflate(base64ToBytes(payload.base64));
  const data = payload.bitDepth === 16 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2) : bytes;
  return {
    width: payload.width,
    height: payload.height,
    channels: payload.channels,
    maxValue: payload.bitDepth === 16 ? 65535 : 255,
    data,
    defaultLevels: { low: payload.displayLow, high: payload.displayHigh, gamma: 1 },
  };
}
