import type { HandlerInput } from '../contract/channels.js';
import type { HandlerRegistry } from '../contract/registry.js';

/** The host's native file dialogs (the desktop's; browser mode has none and uses its folder browser). */
export interface NativeDialogs {
  /** The chosen folder, or null when the dialog was cancelled. */
  pickFolder(options: HandlerInput<'dialog.pickFolder'>): Promise<string | null>;
  /** The chosen files; none when cancelled. */
  pickFiles(options: HandlerInput<'dialog.pickFiles'>): Promise<string[]>;
  /** The chosen file to write, or null when cancelled. */
  saveFile(options: HandlerInput<'dialog.saveFile'>): Promise<string | null>;
}

/** Binds the dialog channels to the host's native dialogs. */
export function registerDialogChannels(registry: HandlerRegistry, dialogs: NativeDialogs): void {
  registry
    .register('dialog.pickFolder', async (options) => ({ path: await dialogs.pickFolder(options) }))
    .register('dialog.pickFiles', async (options) => ({ paths: await dialogs.pickFiles(options) }))
    .register('dialog.saveFile', async (options) => ({ path: await dialogs.saveFile(options) }));
}
