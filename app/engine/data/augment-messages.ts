import type { ContractError } from '../../contract/errors.js';
import type { Batch } from './batch.js';
import type { SampleFile, SampleFormat } from './load-samples.js';
import type { BatchRequest } from './view-request.js';

/** The training images, as the augmentation worker reads them from disk. */
export interface SampleSource {
  files: SampleFile[];
  format: SampleFormat;
  /** Bound of the decoded samples kept between epochs. */
  cacheBytes: number;
}

export type AugmentWorkerRequest =
  | ({ type: 'source' } & SampleSource)
  /** The epoch's order of samples, its batches one after the other: the order to read ahead in. */
  | { type: 'plan'; order: number[] }
  | ({ type: 'batch' } & BatchRequest)
  /** Finish the reads in progress, then exit. */
  | { type: 'close' };

export type AugmentWorkerReply = { id: number; ok: true; batch: Batch } | { id: number; ok: false; error: ContractError };
