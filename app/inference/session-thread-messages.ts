import type { ExecutionProviderName } from '../contract/segmentation.js';

/** Main thread -> inference thread. `sequence` 0 is the open request. */
export type SessionThreadRequest =
  | { type: 'open'; sequence: 0; file: string; provider: ExecutionProviderName; inputName: string; outputName: string; intraOpThreads: number | null }
  | { type: 'run'; sequence: number; input: Float32Array; dims: number[] };

/** Inference thread -> main thread: the answer to the request with the same sequence number. */
export type SessionThreadReply =
  | { sequence: number; ok: true; data: Float32Array; dims: number[] }
  | { sequence: number; ok: false; error: string };
