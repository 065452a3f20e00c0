// Entry of a trainer utility process (utilityProcess.fork). The trainer speaks the child_process
// IPC API (process.send / process.on('message')); a utility process talks through
// process.parentPort instead, so this maps one onto the other and then starts the trainer.
import type { ParentPort } from 'electron';

const parentPort = (process as NodeJS.Process & { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('utility-trainer-entry must be started with utilityProcess.fork.');

process.send = ((message: unknown) => {
  parentPort.postMessage(message);
  return true;
}) as typeof process.send;
// The trainer disconnects when it is done; the host then ends this process (see utility-trainer.ts).
process.disconnect = () => undefined;

await import('../app/engine/worker/trainer-process.js');
// Only now: parentPort queues messages until its first listener, and the trainer must be listening.
parentPort.on('message', (event) => process.emit('message', event.data, undefined));
