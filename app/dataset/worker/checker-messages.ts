import { z } from 'zod';
import { ImportCheck } from '../../contract/import-check.js';
import { WorkerProgress, type WorkerProtocol } from '../../jobs/worker-process.js';

/** The fields of the host's start message: the ImportRequest, validated again in the worker. */
export const CheckerStart = { request: z.unknown() };

/** What the import preview sends: progress as it decodes, then every file's verdict. */
export const CheckerToHost: WorkerProtocol<WorkerProgress, ImportCheck> = { messages: WorkerProgress, result: ImportCheck };
