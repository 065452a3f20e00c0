import { createRequire } from 'node:module';
import type { BackendChoice, BackendName } from '../../contract/training.js';

const require = createRequire(import.meta.url);

/**
 * The backend a run will most likely get, judged without loading one (planning happens in the
 * host; the trainer process loads the backend): the one asked for, or the first installed package
 * of the ladder in select-backend.ts. The trainer re-plans batches for the backend it really gets.
 */
export function expectedBackend(choice: BackendChoice): { name: BackendName; reason: string } {
  if (choice !== 'auto') return { name: choice, reason: 'chosen with --backend' };
  for (const name of ['tfjs-node-gpu', 'tfjs-node'] as const) {
    if (installed(`@tensorflow/${name}`)) return { name, reason: `@tensorflow/${name} is installed${name === 'tfjs-node-gpu' ? ', used if CUDA 11.2 and cuDNN 8.1 load' : ''}` };
  }
  return { name: 'wasm', reason: 'neither tfjs-node-gpu nor tfjs-node is installed' };
}

function installed(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    // Not resolvable means not installed; nothing else can go wrong in a resolve.
    return false;
  }
}
