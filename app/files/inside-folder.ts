import path from 'node:path';

/** True when `candidate` is `folder` or lies inside it (both absolute, links already resolved by the caller). */
export function isInside(candidate: string, folder: string): boolean {
  const relative = path.relative(folder, candidate);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}
