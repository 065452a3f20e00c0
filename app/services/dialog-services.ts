import type { HandlerInput } from '../contract/channels.js';
import type { HandlerRegistry } from '../contract/registry.js';
import type { PathGrants } from './path-grants.js';

/** The host's native file dialogs (the desktop's; browser mode has none and uses its folder browser). */
export interface NativeDialogs {
  /** The chosen folder, or null when the dialog was cancelled. */
  pickFolder(options: HandlerInput<'dialog.pickFolder'>): Promise<string | null>;
  /** The chosen files; none when cancelled. */
  pickFiles(options: HandlerInput<'dialog.pickFiles'>): Promise<string[]>;
  /** The chosen file to write, or null when cancelled. */
  saveFile(options: HandlerInput<'dialog.saveFile'>): Promise<string | null>;
  /** Asks the user, in a native box the page cannot answer for them, to let the app use a folder they typed. */
  confirmAccess(folder: string): Promise<boolean>;
}

/**
 * Binds the dialog channels to the host's native dialogs. What the user picks in them is granted to
 * the page for this session (docs/SECURITY.md); a path the user typed is granted only after a native
 * confirmation.
 */
export function registerDialogChannels(registry: HandlerRegistry, dialogs: NativeDialogs, grants: PathGrants): void {
  const picked = (path: string) => {
    grants.allow(path, 'Picked');
    return path;
  };
  registry
    .register('dialog.pickFolder', async (options) => {
      const path = await dialogs.pickFolder(options);
      return { path: path === null ? null : picked(path) };
    })
    .register('dialog.pickFiles', async (options) => ({ paths: (await dialogs.pickFiles(options)).map(picked) }))
    .register('dialog.saveFile', async (options) => {
      const path = await dialogs.saveFile(options);
      return { path: path === null ? null : picked(path) };
    })
    .register('fs.grant', async ({ path: requested }) => {
      const absolute = grants.absolute(requested);
      if (await grants.allows(absolute)) return { path: absolute };
      // Refused: the same message as any path outside the granted folders.
      if (!(await dialogs.confirmAccess(absolute))) await grants.check(absolute);
      return { path: picked(absolute) };
    });
}
