import path from 'node:path';
import { z } from 'zod';
import { RecentProject } from '../contract/studio.js';
import { SettingsFile } from './settings-file.js';

const MAX_RECENT = 10;

/** recent-projects.json; the desktop once kept bare paths, which still read (named after their folder). */
const StoredList = z.union([
  z.array(RecentProject),
  z.array(z.string()).transform((paths) => paths.map((root) => ({ path: root, name: path.basename(root), openedAt: '' }))),
]);

/**
 * The one list of recently opened projects, newest first, shared by the start page (browser and
 * desktop) and the desktop's File › Open Recent menu. Kept in `<settings>/recent-projects.json`, or
 * in memory only when the host has no settings folder (tests, benches).
 */
export class RecentProjects {
  private readonly store: SettingsFile<RecentProject[]> | null;
  private loaded: Promise<RecentProject[]> | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<() => void>();

  constructor(settingsDir: string | null) {
    this.store = settingsDir ? new SettingsFile(path.join(settingsDir, 'recent-projects.json'), StoredList, []) : null;
  }

  async list(): Promise<RecentProject[]> {
    this.loaded ??= this.store ? this.store.read().then((entries) => entries.slice(0, MAX_RECENT)) : Promise.resolve([]);
    return structuredClone(await this.loaded);
  }

  /** Puts a project first (opening it again only refreshes its name and time). */
  add(project: { path: string; name: string }): Promise<void> {
    const root = path.resolve(project.path);
    return this.update((entries) => [{ path: root, name: project.name, openedAt: new Date().toISOString() }, ...entries.filter((entry) => entry.path !== root)]);
  }

  forget(projectPath: string): Promise<void> {
    const root = path.resolve(projectPath);
    return this.update((entries) => entries.filter((entry) => entry.path !== root));
  }

  clear(): Promise<void> {
    return this.update(() => []);
  }

  /** Called after every change (the desktop rebuilds its menu). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes run one after another, each on the list the previous one left. */
  private update(change: (entries: RecentProject[]) => RecentProject[]): Promise<void> {
    const next = this.writing.then(async () => {
      const entries = change(await this.list()).slice(0, MAX_RECENT);
      this.loaded = Promise.resolve(entries);
      await this.store?.write(entries);
      for (const listener of this.listeners) listener();
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}
