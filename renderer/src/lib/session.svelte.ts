import { getContext, setContext } from 'svelte';
import type { ContractClient } from '../../../app/contract/client.js';
import type { ImageEntry, ProjectSummary } from '../../../app/contract/schemas.js';
import type { Platform } from './connection.js';
import { JobTracker } from './jobs.svelte.js';

export type ViewName = 'dataset' | 'editor' | 'train' | 'segment' | 'export';

/** The state every view shares: the connection, the open project and where the user is. */
export class Session {
  project = $state<ProjectSummary | null>(null);
  view = $state<ViewName>('dataset');
  /** The image the editor shows. */
  imageId = $state<string | null>(null);
  /** Image ids in the dataset browser's current order, for the editor's previous / next. */
  imageOrder = $state<string[]>([]);
  /** Bumped when the project's images change, so views reload what they show. */
  revision = $state(0);
  /** The project's image index (all entries), loaded by `loadImages`. */
  images = $state.raw<ImageEntry[]>([]);
  imagesLoaded = $state(false);
  readonly jobs: JobTracker;

  constructor(
    readonly client: ContractClient,
    readonly platform: Platform,
  ) {
    this.jobs = new JobTracker(client);
    client.on('project.changed', (event) => {
      if (event.project === this.project?.path && event.reason !== 'mask') void this.refresh();
    });
  }

  /** Opens a project; resolves with an error message or null. */
  async open(path: string): Promise<string | null> {
    const answer = await this.client.invoke('project.open', { path });
    if (!answer.ok) return answer.error.message;
    this.show(answer.value);
    return null;
  }

  show(project: ProjectSummary): void {
    this.project = project;
    this.images = [];
    this.imagesLoaded = false;
    this.view = 'dataset';
    this.imageId = null;
    this.revision++;
  }

  close(): void {
    this.project = null;
    this.imageId = null;
  }

  /** Loads the whole index in pages of the channel's maximum; resolves with an error message or null. */
  async loadImages(): Promise<string | null> {
    const project = this.project;
    if (!project) return null;
    const all: ImageEntry[] = [];
    for (let offset = 0; ; ) {
      const answer = await this.client.invoke('images.list', { project: project.path, offset, limit: 10_000 });
      if (!answer.ok) return answer.error.message;
      all.push(...answer.value.items);
      offset += answer.value.items.length;
      if (offset >= answer.value.total || answer.value.items.length === 0) break;
    }
    if (this.project?.path !== project.path) return null;
    this.images = all;
    this.imagesLoaded = true;
    return null;
  }

  /** Replaces one entry after the host changed it (a saved mask changes the status). */
  updateImage(entry: ImageEntry): void {
    this.images = this.images.map((image) => (image.id === entry.id ? entry : image));
  }

  openImage(id: string): void {
    this.imageId = id;
    this.view = 'editor';
  }

  /** Reloads the summary (counts) and tells views to reload their data. */
  async refresh(): Promise<void> {
    if (!this.project) return;
    const answer = await this.client.invoke('project.open', { path: this.project.path });
    if (answer.ok && answer.value.path === this.project?.path) {
      this.project = answer.value;
      this.revision++;
    }
  }
}

const KEY = Symbol('session');

export function provideSession(session: Session): void {
  setContext(KEY, session);
}

export function useSession(): Session {
  return getContext<Session>(KEY);
}
