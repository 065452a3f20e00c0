import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { AppError, toContractError } from '../contract/errors.js';
import type { EventBus } from '../contract/event-bus.js';
import type { ImageRegion, LiveSession, LiveStartRequest, LiveStatus, LiveStopReason } from '../contract/live.js';
import { processAlive } from '../jobs/process-alive.js';
import { forkWorker, superviseWorker, type WorkerLauncher } from '../jobs/worker-process.js';
import type { OpenProjects } from '../project/open-projects.js';
import { LiveToHost, type LiveMessage } from './live-messages.js';

export const LIVE_MODULE = fileURLToPath(new URL('./live-process.js', import.meta.url));

/** Mask saves within this long are sent to the process as one batch. */
const STROKE_DEBOUNCE_MS = 300;
/** After asking a process to stop, how long it has to exit before it is killed. */
const EXIT_GRACE_MS = 5000;

interface Running {
  id: string;
  project: string;
  pid: number | null;
  controller: AbortController;
  send(message: { type: string } & Record<string, unknown>): void;
  /** Settles once the process has ended. */
  ended: Promise<void>;
  stopReason: LiveStopReason;
  idle: NodeJS.Timeout;
  idleMs: number;
  changed: Set<string>;
  debounce: NodeJS.Timeout | null;
  saves: Map<number, { resolve(runId: string): void; reject(err: Error): void }>;
  /** Stops following the page's connection. */
  unwatch(): void;
  last: Omit<LiveStatus, 'state' | 'reason' | 'error'>;
}

/**
 * Live assist on the host side: each session is a training process (the trainer's worker mechanism,
 * a process of its own, never the UI thread) that learns from the painted pixels of the project's
 * images. Mask saves reach it in debounced batches without a restart; its predictions and status
 * come back as events. A session ends when stopped, after `idleSeconds` without a stroke or another
 * image, when the page that started it is gone (its `connection` signal), or when the host closes;
 * `stop` settles once its process is gone.
 */
export class LiveService {
  private readonly sessions = new Map<string, Running>();
  private saveRequests = 0;

  constructor(
    private readonly events: EventBus,
    private readonly projects: OpenProjects,
    private readonly launch: WorkerLauncher = forkWorker,
  ) {}

  async start(request: LiveStartRequest, connection?: AbortSignal): Promise<LiveSession> {
    const project = await this.projects.get(request.project);
    if (request.imageId !== null) project.image(request.imageId); // refuses an unknown image before a process starts
    const id = randomUUID();
    const controller = new AbortController();
    let connected: { pid: number | null; send: Running['send'] } | null = null;
    const supervised = superviseWorker(
      this.launch,
      LIVE_MODULE,
      { project: project.root, imageId: request.imageId, view: request.view, predictEveryMs: request.predictEverySeconds * 1000, patch: request.patch },
      LiveToHost,
      {
        signal: controller.signal,
        what: 'live training',
        crashHint: 'Painted masks are saved; switch Live on again to restart it.',
        onMessage: (message) => this.received(id, message),
        connected: (worker) => (connected = worker),
      },
    );
    const { pid, send } = connected!;
    const disconnected = () => void this.stop(id, 'disconnected');
    const running: Running = {
      id,
      project: project.root,
      pid,
      controller,
      send,
      ended: Promise.resolve(),
      stopReason: 'stopped',
      idle: setTimeout(() => undefined, 0),
      idleMs: request.idleSeconds * 1000,
      changed: new Set(),
      debounce: null,
      saves: new Map(),
      unwatch: () => connection?.removeEventListener('abort', disconnected),
      last: { sessionId: id, project: project.root, pid, steps: 0, loss: null, labelledPixels: 0, images: 0, tensors: 0, backend: null },
    };
    running.ended = supervised.then(
      (result) => this.finished(running, result.ok ? null : result.error.message),
      (err: unknown) => this.finished(running, running.controller.signal.aborted ? null : toContractError(err).message),
    );
    this.sessions.set(id, running);
    this.touch(running);
    if (connection?.aborted) disconnected();
    else connection?.addEventListener('abort', disconnected, { once: true });
    this.events.emit('live.status', { ...running.last, state: 'starting', reason: null, error: null });
    return { sessionId: id, pid };
  }

  /** The editor shows another image, or another part of it. */
  focus(sessionId: string, imageId: string, view: ImageRegion | null): boolean {
    const running = this.sessions.get(sessionId);
    if (!running) return false;
    this.touch(running);
    running.send({ type: 'focus', imageId, view });
    return true;
  }

  /** A mask of `project` was saved: its sessions read it again after the batch of saves settles. */
  maskSaved(project: string, imageId: string): void {
    for (const running of this.sessions.values()) {
      if (running.project !== project) continue;
      this.touch(running);
      running.changed.add(imageId);
      if (running.debounce) clearTimeout(running.debounce);
      running.debounce = setTimeout(() => {
        running.debounce = null;
        running.send({ type: 'masks', imageIds: [...running.changed] });
        running.changed.clear();
      }, STROKE_DEBOUNCE_MS);
    }
  }

  /** Ends a session and settles once its process has ended; false when there was no such session. */
  async stop(sessionId: string, reason: LiveStopReason = 'stopped'): Promise<boolean> {
    const running = this.sessions.get(sessionId);
    if (!running) return false;
    running.stopReason = reason;
    running.controller.abort();
    await running.ended;
    return true;
  }

  /** Saves the session's model as a completed run. */
  save(sessionId: string): Promise<string> {
    const running = this.sessions.get(sessionId);
    if (!running) return Promise.reject(new AppError('not_found', 'That live session has ended; switch Live on again and save once it has learned something.'));
    const request = ++this.saveRequests;
    return new Promise((resolve, reject) => {
      running.saves.set(request, { resolve, reject });
      running.send({ type: 'save', request });
    });
  }

  /** Ends every session (the host is closing). */
  async close(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.stop(id, 'closed')));
  }

  private touch(running: Running): void {
    clearTimeout(running.idle);
    running.idle = setTimeout(() => void this.stop(running.id, 'idle'), running.idleMs);
  }

  private received(id: string, message: LiveMessage): void {
    const running = this.sessions.get(id);
    if (!running) return;
    if (message.type === 'status') {
      const { type: _type, seq: _seq, ...status } = message;
      running.last = { ...running.last, ...status };
      this.events.emit('live.status', { ...running.last, state: 'training', reason: null, error: null });
    } else if (message.type === 'prediction') {
      this.events.emit('live.prediction', {
        sessionId: id,
        project: running.project,
        imageId: message.imageId,
        step: message.step,
        region: message.region,
        map: { exists: true, width: message.width, height: message.height, encoding: 'deflate', base64: message.labelsBase64 },
      });
    } else {
      const waiting = running.saves.get(message.request);
      running.saves.delete(message.request);
      if (message.runId) waiting?.resolve(message.runId);
      else waiting?.reject(new AppError('internal', `The live model could not be saved: ${message.error}`));
    }
  }

  /** The process has said its last word: wait for it to be gone, then report the end. */
  private async finished(running: Running, error: string | null): Promise<void> {
    clearTimeout(running.idle);
    running.unwatch();
    if (running.debounce) clearTimeout(running.debounce);
    for (const waiting of running.saves.values()) waiting.reject(new AppError('cancelled', 'Live training stopped before the model was saved.'));
    if (running.pid !== null) await waitForExit(running.pid, EXIT_GRACE_MS);
    this.sessions.delete(running.id);
    this.events.emit('live.status', { ...running.last, state: 'stopped', reason: error ? 'failed' : running.stopReason, error });
  }
}

/** Waits until process `pid` (one this host started) is gone, killing it after `graceMs`. */
async function waitForExit(pid: number, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  let killed = false;
  while (processAlive(pid)) {
    if (!killed && Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      killed = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
