// Entry of a worker utility process (utilityProcess.fork(entry, [module])). Workers speak the
// child_process IPC API (process.send / process.on('message')); a utility process talks through
// process.parentPort instead, so this maps one onto the other and then loads the worker module.
import { pathToFileURL } from 'node:url';
import type { ParentPort } from 'electron';

const parentPort = (process as NodeJS.Process & { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('utility-worker-entry must be started with utilityProcess.fork.');
const workerModule = process.argv[2];
if (!workerModule) throw new Error('utility-worker-entry needs the worker module as its first argument.');

process.send = ((message: unknown) => {
  parentPort.postMessage(message);
  return true;
}) as typeof process.send;
// A worker disconnects when it is done; the host then ends this process (see utility-worker.ts).
process.disconnect = () => undefined;

await import(pathToFileURL(workerModule).href);
// Only now: parentPort queues messages until its first listener, and the worker must be listening.
parentPort.on('message', (event) => process.emit('message', event.data, undefined));
