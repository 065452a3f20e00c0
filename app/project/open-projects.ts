import path from 'node:path';
import { Project } from './project.js';

/**
 * One Project instance per folder within a host, so every channel sees (and serialises writes to)
 * the same in-memory index.
 */
export class OpenProjects {
  private readonly projects = new Map<string, Promise<Project>>();

  /** `onOpened` sees every project opened or created here (the host grants the page its folder). */
  constructor(private readonly onOpened: (project: Project) => void = () => undefined) {}

  /** The open project; reloaded from disk when another program (e.g. the CLI) changed it meanwhile. */
  async get(root: string): Promise<Project> {
    const key = path.resolve(root);
    const cached = this.projects.get(key);
    if (cached) {
      const project = await cached.catch(() => null);
      if (project && !(await project.isStale())) return project;
      if (this.projects.get(key) !== cached) return this.get(key);
    }
    const opening = Project.open(key).then((project) => {
      this.onOpened(project);
      return project;
    });
    this.projects.set(key, opening);
    opening.catch(() => this.projects.delete(key));
    return opening;
  }

  async create(root: string, options: { name?: string; classes: string[] }): Promise<Project> {
    const project = await Project.create(root, options);
    this.onOpened(project);
    this.projects.set(project.root, Promise.resolve(project));
    return project;
  }
}
