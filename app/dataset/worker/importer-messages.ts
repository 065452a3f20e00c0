import { z } from 'zod';
import { ImageEntry, ImportReport } from '../../contract/schemas.js';
import { WorkerProgress, type WorkerProtocol } from '../../jobs/worker-process.js';

/** The fields of the host's start message: the ImportRequest, validated again in the worker. */
export const ImporterStart = { request: z.unknown() };

/** Imported images, their files already in the project: the host adds them to project.json. */
const NewImages = z.object({ type: z.literal('images'), seq: z.number().int().min(1), entries: z.array(ImageEntry) });

/** What the importer sends: progress and batches of new entries as it goes, then its report. */
export const ImporterToHost: WorkerProtocol<WorkerProgress | z.infer<typeof NewImages>, ImportReport> = {
  messages: z.discriminatedUnion('type', [WorkerProgress, NewImages]),
  result: ImportReport,
};
