import type { BaseWindow, Dialog, MessageBoxOptions, OpenDialogOptions, SaveDialogOptions } from 'electron';
import type { NativeDialogs } from '../app/services/dialog-services.js';

export type DialogApi = Pick<Dialog, 'showOpenDialog' | 'showSaveDialog' | 'showMessageBox'>;

/** Electron's open/save dialogs, modal to the studio window, as the services' NativeDialogs. */
export function electronDialogs(dialog: DialogApi, window: () => BaseWindow | null): NativeDialogs {
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
  return {
    async pickFolder({ title, defaultPath }) {
      const result = await open({ properties: ['openDirectory', 'createDirectory'], ...optional({ title, defaultPath }) });
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
    async pickFiles({ title, defaultPath, filters, multiple }) {
      const result = await open({ properties: multiple ? ['openFile', 'multiSelections'] : ['openFile'], filters, ...optional({ title, defaultPath }) });
      return result.canceled ? [] : result.filePaths;
    },
    async saveFile({ title, defaultPath, filters }) {
      const result = await save({ filters, ...optional({ title, defaultPath }) });
      return result.canceled || !result.filePath ? null : result.filePath;
    },
    async confirmAccess(folder) {
      const answer = await ask({
        type: 'question',
        buttons: ['Allow', 'Cancel'],
        defaultId: 1,
        cancelId: 1,
        title: 'Allow access to a folder',
        message: `Let U-Net Studio read and write in ${folder}?`,
        detail: 'You typed this path. Until the app is closed, it may read images there and write results there.',
      });
      return answer.response === 0;
    },
  };
}

function optional(options: { title?: string | undefined; defaultPath?: string | undefined }): { title?: string; defaultPath?: string } {
  return { ...(options.title ? { title: options.title } : {}), ...(options.defaultPath ? { defaultPath: options.defaultPath } : {}) };
}
