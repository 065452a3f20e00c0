import path from 'node:path';
import { Project } from './project.js';

/**
 * One Project instance per folder within a host, so every channel sees (and serialises writes to)
 * the same in-memory index.
 */
export class OpenProjects {
  private readonly projects = new Map<string, Promise<Project>>();

  get(root: string): Promise<Project> {
    const key = path.resolve(root);
    let project = this.projects.get(key);
    if (!project) {
      project = Project.open(key);
      this.projects.set(key, project);
      project.catch(() => this.projects.delete(key));
    }
    return project;
  }

  async create(root: string, options: { name?: string; classes: string[] }): Promise<Project> {
    const project = await Project.create(root, options);
    this.projects.set(project.root, Promise.resolve(project));
    return project;
  }
}
