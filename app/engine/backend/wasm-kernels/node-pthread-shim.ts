import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker as NodeWorker } from 'node:worker_threads';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Lets tfjs-backend-wasm's multi-threaded build start under Node.
 *
 * The backend hands Emscripten its pthread worker script and its own module
 * factory as Blob URLs. Node's worker_threads cannot start a worker from a
 * blob: URL (ERR_WORKER_PATH), which is why tfjs turns threads off in Node
 * (tensorflow/tfjs#3830). This shim writes both scripts to a temp folder and
 * hands out file paths instead. It also un-refs the pthread workers, which
 * would otherwise keep the process alive after everything else is done.
 *
 * It patches the globals `Blob` and `URL.createObjectURL`, but only changes
 * what they do for those two scripts; every other Blob behaves as before.
 */

/** The script strings below were read from this release's node bundle. */
const VERIFIED_VERSION = '4.22.0';
const WORKER_SCRIPT_START = '"use strict";var Module={}';
const FACTORY_SCRIPT_START = 'var WasmBackendModuleThreadedSimd';
const WORKER_LOADS_FACTORY_FROM_URL =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}';
// The factory's source (Function#toString) refers to variables of the bundle
// it was cut from; the worker has to define them again.
const FACTORY_BUNDLE_VARIABLES =
  "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks')," +
  "require$$4=require('os'),commonjsGlobal=globalThis;\n";

let installed = false;

/** Installs the shim; returns null on success or why threads cannot be used. */
export function installNodePthreadShim(): string | null {
  if (installed) return null;
  if (version_wasm !== VERIFIED_VERSION) {
    return `the Node worker workaround is verified for tfjs-backend-wasm ${VERIFIED_VERSION} only, found ${version_wasm}`;
  }
  if (typeof SharedArrayBuffer !== 'function') {
    return 'the multi-threaded wasm build needs SharedArrayBuffer, which this runtime lacks';
  }
  const folder = mkdtempSync(join(tmpdir(), 'tfjs-wasm-pthreads-'));
  process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  const factoryPath = join(folder, 'wasm-module-factory.cjs');
  const workerPath = join(folder, 'pthread-worker.cjs');
  const workerScripts = new WeakSet<Blob>();

  // Emscripten makes the worker script's Blob again for every worker it starts. Each script is
  // written once: rewriting the file while an earlier worker read it gave that worker an empty
  // script, and it exited without loading, which left the backend waiting for it for ever.
  const written = new Set<string>();
  const writeOnce = (path: string, text: string) => {
    if (written.has(path)) return;
    writeFileSync(path, text);
    written.add(path);
  };
  const NativeBlob = globalThis.Blob;
  globalThis.Blob = class extends NativeBlob {
    constructor(...args: ConstructorParameters<typeof NativeBlob>) {
      const [parts, options] = args;
      super(parts, options);
      const text = parts?.length === 1 && typeof parts[0] === 'string' ? parts[0] : '';
      if (text.startsWith(FACTORY_SCRIPT_START)) {
        writeOnce(factoryPath, FACTORY_BUNDLE_VARIABLES + text);
      } else if (text.startsWith(WORKER_SCRIPT_START)) {
        writeOnce(workerPath, text.replace(WORKER_LOADS_FACTORY_FROM_URL, `if(true){importScripts(${JSON.stringify(factoryPath)})}`));
        workerScripts.add(this);
      }
    }
  };

  const nativeCreateObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (blob: Blob) => {
    if (!workerScripts.has(blob)) return nativeCreateObjectURL(blob);
    // Emscripten calls this right before `new Worker(url)`, after pointing the
    // global Worker at worker_threads' Worker.
    (globalThis as { Worker?: unknown }).Worker = UnrefedWorker;
    return workerPath;
  };
  installed = true;
  return null;
}

/**
 * A pthread worker that stops keeping the process alive once it has loaded.
 * Un-ref'ing any earlier would let Node exit while the backend still awaits
 * its workers; attaching a 'message' listener re-refs the port, so this waits
 * for the first message ('loaded'), by which time Emscripten's listener is on.
 * Emscripten also ref()s a worker while it runs a pthread, but XNNPACK's pool
 * threads run for the life of the process, idle between kernels, and every
 * kernel waits for them synchronously, so those refs are ignored.
 */
class UnrefedWorker extends NodeWorker {
  constructor(...args: ConstructorParameters<typeof NodeWorker>) {
    super(...args);
    this.once('message', () => this.unref());
  }

  override ref(): void {}
}
