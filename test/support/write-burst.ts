// Child process for the crash test: writes masks and project.json as fast as it can until killed.
// Every mask write fills the whole label map with one round number, so a torn file is detectable.
import { Project } from '../../app/project/project.js';

const [root] = process.argv.slice(2);
const project = await Project.open(root!);
const ids = project.images.map((image) => image.id);
process.stdout.write('ready\n');
for (let round = 1; ; round++) {
  for (const id of ids) {
    const entry = project.image(id);
    const labels = new Uint8Array(entry.width * entry.height).fill(round % 2);
    await project.writeMask(id, { width: entry.width, height: entry.height, labels });
    await project.updateImage(id, { tags: [`round-${round}`] });
  }
}
