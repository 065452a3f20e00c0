// Entry point of an import process: decoding, hashing and copying a folder of images (sharp and a
// large folder's memory) stay away from the host, which only adds the finished entries to
// project.json, since it owns that file and the project's write lock.
import { ImportRequest } from '../../contract/schemas.js';
import { serveWorkerJob } from '../../jobs/worker-entry.js';
import { Project } from '../../project/project.js';
import { type ImportTarget, importImages } from '../import-images.js';
import { ImporterStart } from './importer-messages.js';

serveWorkerJob(ImporterStart, async ({ request }, { signal, post }) => {
  const parsed = ImportRequest.parse(request);
  const project = await Project.open(parsed.project);
  const target: ImportTarget = {
    root: project.root,
    classes: project.classes,
    settings: project.settings,
    images: project.images,
    resolve: (relative) => project.resolve(relative),
    // The import reserves every id it hands out, so ids stay unique without the host's new entries.
    uniqueImageId: (stem, reserved) => project.uniqueImageId(stem, reserved),
    addImages: async (entries) => post({ type: 'images', entries: [...entries] }),
    // The host stores it, unless the image got a mask meanwhile: it then reports the mask kept (runImporter).
    addMissingMask: async (id, png, status) => {
      post({ type: 'mask', id, png: Buffer.from(png).toString('base64'), status });
      return true;
    },
    // The host took the project's write lock before starting this process.
    claimWrites: async () => undefined,
    // ...and reports what taking it tidied up (runImporter).
    takeCleanupNotice: () => null,
  };
  return importImages(target, parsed, {
    signal,
    onProgress: (done, total, message) => post({ type: 'progress', done, total, message }),
  });
});
