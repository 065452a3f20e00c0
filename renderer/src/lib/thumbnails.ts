import type { ContractClient } from '../../../app/contract/client.js';
import { base64ToBlob } from './bytes.js';
import { TaskQueue } from './task-queue.js';

/** Fetches one preview: a picture, or null when there is none to show (an image without a mask). */
export type PreviewSource = (id: string, signal: AbortSignal) => Promise<Blob | null>;

/** The image's own thumbnail (the host makes and caches it). */
export function imageThumbnails(client: ContractClient, project: string): PreviewSource {
  return async (id, signal) => {
    const answer = await client.invoke('images.thumbnail', { project, id }, { signal });
    if (!answer.ok) throw new Error(answer.error.message);
    return base64ToBlob(answer.value.base64, answer.value.mime);
  };
}

/** Thumbnails decoded at once; the host decodes big images, so more would only queue there. */
const CONCURRENCY = 6;
/** Object URLs kept; the oldest are released beyond this (a 10,000-image grid scrolls through many). */
const CACHE_SIZE = 1500;

/** Loads previews lazily with a concurrency limit, caching them as object URLs (one loader per project and kind). */
export class ThumbnailLoader {
  private readonly queue = new TaskQueue(CONCURRENCY);
  private readonly cache = new Map<string, string>();

  constructor(private readonly source: PreviewSource) {}

  cached(id: string): string | null {
    return this.cache.get(id) ?? null;
  }

  /** Resolves with an object URL (null: nothing to show); rejects with an AbortError when the card scrolled away first. */
  async load(id: string, signal: AbortSignal): Promise<string | null> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    return this.queue.run(async () => {
      const blob = await this.source(id, signal);
      if (!blob) return null;
      const url = URL.createObjectURL(blob);
      this.remember(id, url);
      return url;
    }, signal);
  }

  dispose(): void {
    for (const url of this.cache.values()) URL.revokeObjectURL(url);
    this.cache.clear();
  }

  private remember(id: string, url: string): void {
    this.cache.set(id, url);
    if (this.cache.size <= CACHE_SIZE) return;
    const [oldestId, oldestUrl] = this.cache.entries().next().value!;
    this.cache.delete(oldestId);
    URL.revokeObjectURL(oldestUrl);
  }
}
