import path from 'node:path';

export const SMOKE_TEST_FLAG = '--smoke-test';

/**
 * The project folder given on the command line, if any: `U-Net Studio /data/cells` or, from
 * source, `electron . /data/cells`. Flags (Electron's and ours) are skipped; relative paths are
 * taken from the caller's working directory (for a second instance, the one it was started in).
 */
export function projectFromArgv(argv: readonly string[], options: { isPackaged: boolean; cwd: string }): string | null {
  // argv[0] is the executable; from source argv[1] is the app folder (`.`).
  const rest = argv.slice(options.isPackaged ? 1 : 2);
  const folder = rest.find((arg) => !arg.startsWith('-'));
  return folder ? path.resolve(options.cwd, folder) : null;
}
