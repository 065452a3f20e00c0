import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// package.json sits beside dist/ in a clone and in the packaged app alike.
const PACKAGE_JSON = fileURLToPath(new URL('../../../package.json', import.meta.url));

/** U-Net Studio's version, recorded in exported models. */
export async function appVersion(): Promise<string> {
  const { version } = JSON.parse(await readFile(PACKAGE_JSON, 'utf8')) as { version: string };
  return version;
}
