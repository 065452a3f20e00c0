import { z } from 'zod';
import { ImageEntry, ImageStatus, ImportReport } from '../../contract/schemas.js';
import { WorkerProgress, type WorkerProtocol } from '../../jobs/worker-process.js';

/** The fields of the host's start message: the ImportRequest, validated again in the worker. */
export const ImporterStart = { request: z.unknown() };

/** Imported images, their files already in the project: the host adds them to project.json. */
const NewImages = z.object({ type: z.literal('images'), seq: z.number().int().min(1), entries: z.array(ImageEntry) });

/**
 * A mask for an image already in the project that has none (a mask fixed after an earlier import),
 * checked by the importer: the host stores it unless the image got a mask meanwhile. The PNG is
 * base64, as IPC messages are JSON.
 */
const MissingMask = z.object({ type: z.literal('mask'), seq: z.number().int().min(1), id: z.string(), png: z.string(), status: ImageStatus });

/** What the importer sends: progress, batches of new entries and missing masks as it goes, then its report. */
export const ImporterToHost: WorkerProtocol<WorkerProgress | z.infer<typeof NewImages> | z.infer<typeof MissingMask>, ImportReport> = {
  messages: z.discriminatedUnion('type', [WorkerProgress, NewImages, MissingMask]),
  result: ImportReport,
};
