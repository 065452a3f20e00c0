import type { BaseWindow, Dialog, OpenDialogOptions, SaveDialogOptions } from 'electron';
import type { HandlerRegistry } from '../app/contract/registry.js';

export type DialogApi = Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>;

/** The desktop side of the dialog channels: native open/save dialogs, modal to the studio window. */
export function registerDialogChannels(registry: HandlerRegistry, dialog: DialogApi, window: () => BaseWindow | null): void {
  const open = (options: OpenDialogOptions) => {
    const parent = window();
    return parent ? dialog.showOpenDialog(parent, options) : dialog.showOpenDialog(options);
  };
  const save = (options: SaveDialogOptions) => {
    const parent = window();
    return parent ? dialog.showSaveDialog(parent, options) : dialog.showSaveDialog(options);
  };
  registry
    .register('dialog.pickFolder', async ({ title, defaultPath }) => {
      const result = await open({ properties: ['openDirectory', 'createDirectory'], ...optional({ title, defaultPath }) });
      return { path: result.canceled ? null : (result.filePaths[0] ?? null) };
    })
    .register('dialog.pickFiles', async ({ title, defaultPath, filters, multiple }) => {
      const result = await open({ properties: multiple ? ['openFile', 'multiSelections'] : ['openFile'], filters, ...optional({ title, defaultPath }) });
      return { paths: result.canceled ? [] : result.filePaths };
    })
    .register('dialog.saveFile', async ({ title, defaultPath, filters }) => {
      const result = await save({ filters, ...optional({ title, defaultPath }) });
      return { path: result.canceled || !result.filePath ? null : result.filePath };
    });
}

function optional(options: { title?: string | undefined; defaultPath?: string | undefined }): { title?: string; defaultPath?: string } {
  return { ...(options.title ? { title: options.title } : {}), ...(options.defaultPath ? { defaultPath: options.defaultPath } : {}) };
}
