import { z } from 'zod';
import { ModelExportResult } from '../../contract/model-export.js';
import type { WorkerProtocol } from '../../jobs/worker-process.js';

/** The fields of the host's start message: the ModelExportRequest, validated again in the worker. */
export const ExporterStart = { request: z.unknown() };

/** The exporter only answers: the files it wrote. */
export const ExporterToHost: WorkerProtocol<never, ModelExportResult> = { result: ModelExportResult };
