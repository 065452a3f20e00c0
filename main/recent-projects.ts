import path from 'node:path';
import { z } from 'zod';
import { SettingsFile } from './settings-file.js';

const MAX_RECENT = 10;

/** The recently opened project folders, newest first, kept in `<userData>/recent-projects.json`. */
export class RecentProjects {
  private readonly store: SettingsFile<string[]>;
  private projects: string[] = [];

  private constructor(userData: string) {
    this.store = new SettingsFile(path.join(userData, 'recent-projects.json'), z.array(z.string()).max(100), []);
  }

  static async load(userData: string): Promise<RecentProjects> {
    const recent = new RecentProjects(userData);
    recent.projects = (await recent.store.read()).slice(0, MAX_RECENT);
    return recent;
  }

  list(): readonly string[] {
    return this.projects;
  }

  async add(projectRoot: string): Promise<void> {
    const root = path.resolve(projectRoot);
    if (this.projects[0] === root) return;
    this.projects = [root, ...this.projects.filter((entry) => entry !== root)].slice(0, MAX_RECENT);
    await this.store.write(this.projects);
  }

  async clear(): Promise<void> {
    this.projects = [];
    await this.store.write(this.projects);
  }
}
