import type { ContractClient } from '../../../../app/contract/client.js';
import { type ImageEntry, colourChannelCount } from '../../../../app/contract/schemas.js';
import { type ImageSamples, type SampleFormat, eightBitFormat, samplesAt, samplesFromRgba, writeSamplesFromRgba } from '../../../../app/editor/display-pixels.js';
import type { Rect } from '../../../../app/editor/rect.js';
import { base64ToBytes, inflate } from '../../lib/bytes.js';
import { PICTURE_UPDATED, type PictureUpdate, type StudioPicture } from './progressive-picture.js';

/**
 * The shown image's stored values, for contrast limits on its full range and the cursor readout.
 * A 16-bit image's come from the host (its display image is only an 8-bit rendering) as soon as it
 * is shown: its format (the default limits) comes with them. An 8-bit image's display image holds
 * its values unchanged: they are read from the picture, whole only once the display controls need
 * them (reading a large picture takes a while), one pixel at a time for the readout. A big picture's
 * tiles that arrive after its values were read (from the downscaled stand-in) are read in then, and
 * `onArrived` listeners told, so the shown pixels follow the display settings there too.
 */
export class PictureValues {
  /** Null for a 16-bit image until its values are in. */
  readonly format: SampleFormat | null;
  private readonly abort = new AbortController();
  private loading: Promise<ImageSamples> | null = null;
  /** All the values once read (reactive: the readout and the display follow it). */
  samples = $state.raw<ImageSamples | null>(null);
  private probe: OffscreenCanvasRenderingContext2D | null = null;
  private readonly arrivedListeners = new Set<(rect: Rect) => void>();
  private readonly stopListening: () => void = () => undefined;

  constructor(
    private readonly client: ContractClient,
    private readonly project: string,
    private readonly entry: ImageEntry,
    private readonly picture: StudioPicture,
  ) {
    this.format = entry.bitDepth === 8 ? eightBitFormat(colourChannelCount(entry.channels)) : null;
    if (this.format && picture instanceof HTMLCanvasElement) {
      const arrived = (event: Event) => this.tileArrived((event as PictureUpdate).detail);
      picture.addEventListener(PICTURE_UPDATED, arrived);
      this.stopListening = () => picture.removeEventListener(PICTURE_UPDATED, arrived);
    }
  }

  /** Calls `listener` with each part of the image whose values changed after they were read (late tiles). */
  onArrived(listener: (rect: Rect) => void): () => void {
    this.arrivedListeners.add(listener);
    return () => this.arrivedListeners.delete(listener);
  }

  /** All the values, read once. */
  load(): Promise<ImageSamples> {
    this.loading ??= (this.entry.bitDepth === 8 ? Promise.resolve(this.readPicture()) : this.fetch()).then((samples) => (this.samples = samples));
    return this.loading;
  }

  /** The stored values at one pixel, or null while a 16-bit image's are still on their way. */
  valueAt(x: number, y: number): number[] | null {
    if (this.samples) return samplesAt(this.samples, x, y);
    if (!this.format) return null;
    this.probe ??= new OffscreenCanvas(1, 1).getContext('2d', { willReadFrequently: true })!;
    this.probe.clearRect(0, 0, 1, 1);
    this.probe.drawImage(this.picture, x, y, 1, 1, 0, 0, 1, 1);
    const pixel = this.probe.getImageData(0, 0, 1, 1).data;
    return Array.from(pixel.subarray(0, this.format.channels));
  }

  /** The image is no longer shown: a fetch under way stops. */
  dispose(): void {
    this.abort.abort();
    this.stopListening();
    this.arrivedListeners.clear();
  }

  /** A tile came in after the values were read: its true values replace the stand-in's. (Before, the whole read takes it in.) */
  private tileArrived(rect: Rect): void {
    if (!this.samples) return;
    const context = new OffscreenCanvas(rect.width, rect.height).getContext('2d', { willReadFrequently: true })!;
    context.drawImage(this.picture, rect.x, rect.y, rect.width, rect.height, 0, 0, rect.width, rect.height);
    writeSamplesFromRgba(this.samples, context.getImageData(0, 0, rect.width, rect.height).data, rect);
    for (const listener of this.arrivedListeners) listener(rect);
  }

  private readPicture(): ImageSamples {
    const { width, height } = this.picture;
    const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true })!;
    context.drawImage(this.picture, 0, 0);
    return samplesFromRgba(context.getImageData(0, 0, width, height).data, width, height, this.format!.channels);
  }

  private async fetch(): Promise<ImageSamples> {
    const answer = await this.client.invoke('images.samples', { project: this.project, id: this.entry.id }, { signal: this.abort.signal });
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
}
