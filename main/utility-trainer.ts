import { fileURLToPath } from 'node:url';
import type { ForkOptions } from 'electron';
import type { TrainerChild, TrainerLauncher } from '../app/engine/worker/trainer-host.js';
import type { HostToTrainer } from '../app/engine/worker/trainer-messages.js';

/** The parts of Electron's UtilityProcess the launcher uses (a stand-in in tests). */
export interface UtilityChild {
  postMessage(message: unknown): void;
  kill(): boolean;
  readonly stderr: NodeJS.ReadableStream | null;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'error', listener: (type: string, location: string, report: string) => void): unknown;
}

export type ForkUtility = (modulePath: string, args?: string[], options?: ForkOptions) => UtilityChild;

export const UTILITY_TRAINER_ENTRY = fileURLToPath(new URL('./utility-trainer-entry.js', import.meta.url));
const STDERR_KEEP = 4000;

let trainers = 0;

/**
 * Trainer processes as Electron utility processes (`utilityProcess.fork`), for TrainingService:
 * the same message protocol as the child_process trainer, through postMessage and parentPort. A
 * crash reaches the job as its exit code plus the V8 fatal-error location and the end of stderr;
 * after `done` the process is ended (a utility process does not exit on its own while its port is open).
 */
export function utilityTrainerLauncher(fork: ForkUtility, entry: string = UTILITY_TRAINER_ENTRY): TrainerLauncher {
  return (): TrainerChild => {
    trainers += 1;
    const child = fork(entry, [], { serviceName: `U-Net Studio trainer ${trainers}`, stdio: ['ignore', 'ignore', 'pipe'] });
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
      post: (message: HostToTrainer) => {
        if (!exited) child.postMessage(message);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => child.on('exit', (code) => listener(code, null)),
      kill: () => {
        if (!exited) child.kill();
      },
      stderrTail: () => [fatal, stderr.trim()].filter(Boolean).join('\n'),
    };
  };
}
