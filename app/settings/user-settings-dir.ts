import os from 'node:os';
import path from 'node:path';

/**
 * Where U-Net Studio keeps per-user settings (recent projects, window state): the folder Electron
 * names `userData` for the installed app, so browser mode and the desktop app share one list.
 */
export function userSettingsDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = os.homedir();
  const base =
    platform === 'win32'
      ? (env.APPDATA ?? path.join(home, 'AppData', 'Roaming'))
      : platform === 'darwin'
        ? path.join(home, 'Library', 'Application Support')
        : (env.XDG_CONFIG_HOME ?? path.join(home, '.config'));
  return path.join(base, 'U-Net Studio');
}
