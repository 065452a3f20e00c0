import type { HandlerRegistry } from '../contract/registry.js';
import { defaultClassColour } from '../project/class-colours.js';
import { removeClass } from '../project/class-removal.js';
import type { OpenProjects } from '../project/open-projects.js';
import type { Project } from '../project/project.js';
import { emptyTrash, listTrash, restoreImages, trashImages } from '../project/trash.js';

export interface ProjectEditDeps {
  registry: HandlerRegistry;
  projects: OpenProjects;
  changed(project: Project, reason: string): void;
}

/**
 * Binds the project edits behind the editor's tools: removing a class, deleting and restoring
 * images. `close` empties the trash of every project images were deleted from here (the host is
 * closing them): those deletes become final.
 */
export function registerProjectEditChannels({ registry, projects, changed }: ProjectEditDeps): { close(): Promise<void> } {
  const trashed = new Set<string>();
  registry
    .register('project.addClass', async ({ project: root, name, color }) => {
      const project = await projects.get(root);
      const id = project.classes.length;
      await project.setClasses([...project.classes, { id, name, color: color ?? defaultClassColour(id) }]);
      changed(project, 'classes');
      return project.summary();
    })
    .register('project.removeClass', async ({ project: root, classId, pixels }) => {
      const project = await projects.get(root);
      const rewritten = await removeClass(project, classId, pixels);
      changed(project, 'classes');
      return { rewritten, summary: project.summary() };
    })
    .register('images.delete', async ({ project: root, ids }) => {
      const project = await projects.get(root);
      trashed.add(project.root);
      const items = await trashImages(project, ids);
      changed(project, 'images');
      return { trashed: items };
    })
    .register('images.restore', async ({ project: root, keys }) => {
      const project = await projects.get(root);
      const restored = await restoreImages(project, keys);
      changed(project, 'images');
      return { restored };
    })
    .register('trash.list', async ({ project }) => listTrash(await projects.get(project)));
  return {
    async close() {
      for (const root of trashed) await emptyTrash(root);
    },
  };
}
