import type { BaseWindow, Dialog, MessageBoxOptions, OpenDialogOptions, SaveDialogOptions } from 'electron';
import type { HandlerRegistry } from '../app/contract/registry.js';
import type { PathGrants } from '../app/services/path-grants.js';

export type DialogApi = Pick<Dialog, 'showOpenDialog' | 'showSaveDialog' | 'showMessageBox'>;

/**
 * The desktop side of the dialog channels: native open/save dialogs, modal to the studio window.
 * What the user picks in them is granted to the page for this session (docs/SECURITY.md); a path the
 * user typed is granted only after a native confirmation the page cannot answer for them.
 */
export function registerDialogChannels(registry: HandlerRegistry, dialog: DialogApi, window: () => BaseWindow | null, grants: PathGrants): void {
  const open = (options: OpenDialogOptions) => {
    const parent = window();
    return parent ? dialog.showOpenDialog(parent, options) : dialog.showOpenDialog(options);
  };
  const save = (options: SaveDialogOptions) => {
    const parent = window();
    return parent ? dialog.showSaveDialog(parent, options) : dialog.showSaveDialog(options);
  };
  const ask = (options: MessageBoxOptions) => {
    const parent = window();
    return parent ? dialog.showMessageBox(parent, options) : dialog.showMessageBox(options);
  };
  const picked = (path: string) => {
    grants.allow(path, 'Picked');
    return path;
  };
  registry
    .register('dialog.pickFolder', async ({ title, defaultPath }) => {
      const result = await open({ properties: ['openDirectory', 'createDirectory'], ...optional({ title, defaultPath }) });
      const path = result.canceled ? null : (result.filePaths[0] ?? null);
      return { path: path === null ? null : picked(path) };
    })
    .register('dialog.pickFiles', async ({ title, defaultPath, filters, multiple }) => {
      const result = await open({ properties: multiple ? ['openFile', 'multiSelections'] : ['openFile'], filters, ...optional({ title, defaultPath }) });
      return { paths: result.canceled ? [] : result.filePaths.map(picked) };
    })
    .register('dialog.saveFile', async ({ title, defaultPath, filters }) => {
      const result = await save({ filters, ...optional({ title, defaultPath }) });
      return { path: result.canceled || !result.filePath ? null : picked(result.filePath) };
    })
    .register('fs.grant', async ({ path: requested }) => {
      const absolute = grants.absolute(requested);
      if (await grants.allows(absolute)) return { path: absolute };
      const answer = await ask({
        type: 'question',
        buttons: ['Allow', 'Cancel'],
        defaultId: 1,
        cancelId: 1,
        title: 'Allow access to a folder',
        message: `Let U-Net Studio read and write in ${absolute}?`,
        detail: 'You typed this path. Until the app is closed, it may read images there and write results there.',
      });
      if (answer.response !== 0) await grants.check(absolute); // refused: the same message as any path outside the granted folders
      return { path: picked(absolute) };
    });
}

function optional(options: { title?: string | undefined; defaultPath?: string | undefined }): { title?: string; defaultPath?: string } {
  return { ...(options.title ? { title: options.title } : {}), ...(options.defaultPath ? { defaultPath: options.defaultPath } : {}) };
}
