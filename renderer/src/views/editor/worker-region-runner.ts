import { type RegionOutcome, type RegionRunner, type TileUpdate, snapshotMap } from '../../../../app/editor/region-runner.js';
import type { RegionRequest } from '../../../../app/editor/tiled-fill.js';
import type { TiledLabelMap } from '../../../../app/editor/tiled-label-map.js';
import type { EditWorkerReply, EditWorkerRequest } from './edit-worker-protocol.js';
import type { WorkHandle, WorkProgress } from './work-progress.svelte.js';

interface Run {
  tiles(updates: TileUpdate[]): void;
  finish(outcome: RegionOutcome): void;
  work: WorkHandle;
}

/**
 * Runs the editor's fills in a Web Worker (started on first use), so a fill over a whole 8000²
 * image leaves the page responsive: the mask's tiles go over as a snapshot, computed tiles come
 * back as they are done, progress shows in the editor's bar, and a cancelled run is stopped there too.
 */
export class WorkerRegionRunner implements RegionRunner {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly runs = new Map<number, Run>();

  constructor(private readonly progress: WorkProgress) {}

  run(map: TiledLabelMap, request: RegionRequest, tiles: (updates: TileUpdate[]) => void, signal: AbortSignal): Promise<RegionOutcome> {
    const worker = this.start();
    const id = ++this.nextId;
    const work = this.progress.start(request.label, 'pixels');
    return new Promise((resolve) => {
      const finish = (outcome: RegionOutcome) => {
        if (!this.runs.delete(id)) return;
        work.end();
        if (!outcome.ok) this.progress.fail(`${request.label} failed: ${outcome.error}`);
        resolve(outcome);
      };
      this.runs.set(id, { tiles, finish, work });
      signal.addEventListener(
        'abort',
        () => {
          worker.postMessage({ kind: 'cancel', id } satisfies EditWorkerRequest);
          finish({ ok: true, patch: null });
        },
        { once: true },
      );
      // Copied here and transferred: structured cloning a big mask's hundreds of tile arrays held up the click's frame (30-40 ms at 8000²).
      const snapshot = snapshotMap(map);
      const copies = snapshot.tiles.map(([index, data]): [number, Uint8Array] => [index, data.slice()]);
      worker.postMessage({ kind: 'run', id, snapshot: { ...snapshot, tiles: copies }, request } satisfies EditWorkerRequest, copies.map(([, data]) => data.buffer as ArrayBuffer));
    });
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
    for (const run of [...this.runs.values()]) run.finish({ ok: false, error: 'the editor was closed' });
  }

  /** Starts the worker ahead of the first fill, so that fill shows its first tiles sooner. */
  prepare(): void {
    this.start();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./edit-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = ({ data }: MessageEvent<EditWorkerReply>) => this.receive(data);
    worker.onerror = (event) => {
      event.preventDefault();
      // A worker that fails to start or crashes takes its runs with it; the next fill starts a new one.
      this.worker = null;
      worker.terminate();
      for (const run of [...this.runs.values()]) run.finish({ ok: false, error: event.message || 'the fill worker stopped' });
    };
    this.worker = worker;
    return worker;
  }

  private receive(reply: EditWorkerReply): void {
    const run = this.runs.get(reply.id);
    if (!run) return; // cancelled here already
    if (reply.kind === 'tiles') {
      run.tiles(reply.tiles);
      run.work.update(reply.pixels);
    } else if (reply.kind === 'done') run.finish({ ok: true, patch: reply.patch });
    else run.finish({ ok: false, error: reply.error });
  }
}
