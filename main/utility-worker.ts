import { fileURLToPath } from 'node:url';
import type { ForkOptions } from 'electron';
import type { WorkerChild, WorkerLauncher } from '../app/jobs/worker-process.js';

/** The parts of Electron's UtilityProcess the launcher uses (a stand-in in tests). */
export interface UtilityChild {
  postMessage(message: unknown): void;
  kill(): boolean;
  /** Undefined until the process has started (and in stand-ins). */
  readonly pid?: number | undefined;
  readonly stderr: NodeJS.ReadableStream | null;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'error', listener: (type: string, location: string, report: string) => void): unknown;
}

export type ForkUtility = (modulePath: string, args?: string[], options?: ForkOptions) => UtilityChild;

export const UTILITY_WORKER_ENTRY = fileURLToPath(new URL('./utility-worker-entry.js', import.meta.url));
const STDERR_KEEP = 4000;

let workers = 0;

/**
 * Worker processes (training, batch segmentation, predictions, imports, model export) as Electron utility processes
 * (`utilityProcess.fork`): the same message protocol as the child_process workers, through
 * postMessage and parentPort; the entry file loads the worker module it is given. A crash reaches
 * the job as its exit code plus the V8 fatal-error location and the end of stderr; after `done`
 * the process is ended (a utility process does not exit on its own while its port is open).
 */
export function utilityWorkerLauncher(fork: ForkUtility, entry: string = UTILITY_WORKER_ENTRY): WorkerLauncher {
  return (module: string): WorkerChild => {
    workers += 1;
    const child = fork(entry, [module], { serviceName: `U-Net Studio worker ${workers}`, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let fatal = '';
    let exited = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_KEEP);
    });
    child.on('error', (type, location) => {
      fatal = `${type} at ${location}`;
    });
    child.on('exit', () => {
      exited = true;
    });
    child.on('message', (message) => {
      if ((message as { type?: unknown } | null)?.type === 'done') setImmediate(() => child.kill());
    });
    return {
      post: (message: unknown) => {
        if (!exited) child.postMessage(message);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => child.on('exit', (code) => listener(code, null)),
      kill: () => {
        if (!exited) child.kill();
      },
      pid: () => child.pid ?? null,
      stderrTail: () => [fatal, stderr.trim()].filter(Boolean).join('\n'),
    };
  };
}
