import path from 'node:path';
import { type StaticFile, StaticFiles } from '../app/host/static-files.js';
import { PROJECT_FILES_PREFIX } from './app-origin.js';

/** The URL path of a file inside a project, as the renderer builds it (see renderer/src/desktop-connection.ts). */
export function projectFilePath(projectRoot: string, relativeFile: string): string {
  const key = Buffer.from(projectRoot, 'utf8').toString('base64url');
  return `${PROJECT_FILES_PREFIX}${key}/${relativeFile.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Finds the file a `app://studio/project/...` URL path names, only inside a project that is open in
 * this app. Refused (null): unknown or closed projects, empty, `.` or `..` segments (plain or
 * percent-encoded), absolute paths, encoded separators (%2F, %5C), backslashes, drive letters, null
 * bytes and malformed escapes. What is left is resolved with symlinks followed and must still lie
 * inside the project folder (StaticFiles checks containment before and after realpath).
 */
export async function findProjectFile(urlPathname: string, openRoots: ReadonlySet<string>): Promise<StaticFile | null> {
  if (!urlPathname.startsWith(PROJECT_FILES_PREFIX)) return null;
  const [key, ...rawSegments] = urlPathname.slice(PROJECT_FILES_PREFIX.length).split('/');
  if (!key || !/^[A-Za-z0-9_-]+$/.test(key) || rawSegments.length === 0) return null;
  const root = Buffer.from(key, 'base64url').toString('utf8');
  if (!path.isAbsolute(root) || !openRoots.has(path.resolve(root))) return null;
  const segments: string[] = [];
  for (const raw of rawSegments) {
    const segment = decodeSegment(raw);
    if (segment === null) return null;
    segments.push(segment);
  }
  const files = await StaticFiles.open(root).catch(() => null);
  // Re-encoded because StaticFiles decodes once more; every segment is already known to be plain.
  return files ? files.find(`/${segments.map(encodeURIComponent).join('/')}`) : null;
}

function decodeSegment(raw: string): string | null {
  if (/%(2f|5c|00)/i.test(raw)) return null;
  let segment: string;
  try {
    segment = decodeURIComponent(raw);
  } catch {
    return null;
  }
  const unsafe =
    segment === '' ||
    segment === '.' ||
    segment === '..' ||
    /[\\/\0]/.test(segment) ||
    /^[A-Za-z]:/.test(segment); // a Windows drive (C:) would make path.resolve jump to another root
  return unsafe ? null : segment;
}
