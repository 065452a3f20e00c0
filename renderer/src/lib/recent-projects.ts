/** Recently opened projects, newest first, kept in this browser's localStorage. */
export interface RecentProject {
  path: string;
  name: string;
  openedAt: string;
}

const KEY = 'unet-studio.recent-projects';
const MAX = 8;

export function recentProjects(): RecentProject[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((entry): entry is RecentProject => typeof entry?.path === 'string' && typeof entry?.name === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberProject(path: string, name: string): void {
  const next = [{ path, name, openedAt: new Date().toISOString() }, ...recentProjects().filter((entry) => entry.path !== path)].slice(0, MAX);
  localStorage.setItem(KEY, JSON.stringify(next));
}

export function forgetProject(path: string): void {
  localStorage.setItem(KEY, JSON.stringify(recentProjects().filter((entry) => entry.path !== path)));
}

/** Per-project UI choices (the model chosen for segmentation), also in localStorage. */
export function projectPreference(project: string, key: string): string | null {
  return localStorage.getItem(`unet-studio.${key}:${project}`);
}

export function setProjectPreference(project: string, key: string, value: string | null): void {
  const name = `unet-studio.${key}:${project}`;
  if (value === null) localStorage.removeItem(name);
  else localStorage.setItem(name, value);
}
