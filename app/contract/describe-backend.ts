import type { BackendReport, GpuAdapterReport } from './training.js';

/**
 * The backend a run used, in words: its name, the GPU or thread count, and why it was chosen, e.g.
 * "webgpu on NVIDIA H200 (nvidia hopper), best backend available". The CLI and the UI show the same.
 */
export function describeChosenBackend(backend: BackendReport): string {
  const where = backend.adapter
    ? ` on ${describeAdapter(backend.adapter)}`
    : backend.replicas
      ? ` (${backend.replicas} replicas x 1 thread)`
      : backend.threads
        ? ` (${backend.threads} thread${backend.threads === 1 ? '' : 's'})`
        : '';
  return `${backend.name}${where}, ${backend.reason}`;
}

/** Each backend tried before the chosen one, with why it was not used. */
export function describeSkippedBackends(backend: BackendReport): string[] {
  return backend.skipped.map((entry) => `${entry.name}: ${entry.reason}`);
}

/** The whole report on one line (the CLI's "Backend:" line). */
export function describeBackend(backend: BackendReport): string {
  const skipped = describeSkippedBackends(backend);
  return `${describeChosenBackend(backend)}${skipped.length ? ` [skipped ${skipped.join('; ')}]` : ''}`;
}

export function describeAdapter(adapter: GpuAdapterReport): string {
  const kind = [adapter.vendor, adapter.architecture].filter(Boolean).join(' ');
  const notes = [kind, adapter.software ? 'software' : ''].filter(Boolean).join(', ');
  return `${adapter.description || adapter.device || 'unnamed adapter'}${notes ? ` (${notes})` : ''}`;
}
