import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../app/contract/channels.js';

export interface MenuActions {
  /** Sends an editor command to the renderer (event `menu.command`). */
  command(command: MenuCommand): void;
  openProject(): void;
  openRecent(path: string): void;
  clearRecent(): void;
}

interface CommandItem {
  label: string;
  command: MenuCommand;
  accelerator: string;
  /**
   * Single-key shortcuts are shown in the menu but not grabbed from the keyboard, so typing B or [
   * in a text field still types; the editor handles those keys itself.
   */
  singleKey?: boolean;
}

export const EDIT_COMMANDS: readonly CommandItem[] = [
  { label: 'Undo', command: 'undo', accelerator: 'CmdOrCtrl+Z' },
  { label: 'Redo', command: 'redo', accelerator: 'CmdOrCtrl+Shift+Z' },
];
export const BRUSH_COMMANDS: readonly CommandItem[] = [
  { label: 'Brush', command: 'brush.paint', accelerator: 'B', singleKey: true },
  { label: 'Eraser', command: 'brush.erase', accelerator: 'E', singleKey: true },
  { label: 'Smaller Brush', command: 'brush.smaller', accelerator: '[', singleKey: true },
  { label: 'Larger Brush', command: 'brush.larger', accelerator: ']', singleKey: true },
];
export const VIEW_COMMANDS: readonly CommandItem[] = [
  { label: 'Zoom to Fit', command: 'zoom.fit', accelerator: 'CmdOrCtrl+0' },
  { label: 'Actual Size (1:1)', command: 'zoom.actual', accelerator: 'CmdOrCtrl+1' },
  { label: 'Zoom In', command: 'zoom.in', accelerator: 'CmdOrCtrl+=' },
  { label: 'Zoom Out', command: 'zoom.out', accelerator: 'CmdOrCtrl+-' },
];
export const IMAGE_COMMANDS: readonly CommandItem[] = [
  { label: 'Next Image', command: 'image.next', accelerator: 'CmdOrCtrl+Right' },
  { label: 'Previous Image', command: 'image.previous', accelerator: 'CmdOrCtrl+Left' },
];

/** The application menu: File (open, recent), Edit, Brush, View, Image, Help-free; roles for the platform basics. */
export function buildMenuTemplate(actions: MenuActions, recent: readonly string[], isMac: boolean): MenuItemConstructorOptions[] {
  const item = ({ label, command, accelerator, singleKey }: CommandItem): MenuItemConstructorOptions => ({
    label,
    accelerator,
    ...(singleKey ? { registerAccelerator: false } : {}),
    click: () => actions.command(command),
  });
  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? [...recent.map((path) => ({ label: path, click: () => actions.openRecent(path) })), { type: 'separator' }, { label: 'Clear Recent', click: actions.clearRecent }]
    : [{ label: 'No Recent Projects', enabled: false }];
  return [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Project…', accelerator: 'CmdOrCtrl+O', click: actions.openProject },
        { label: 'Open Recent', submenu: recentItems },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { label: 'Edit', submenu: [...EDIT_COMMANDS.map(item), { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    { label: 'Brush', submenu: BRUSH_COMMANDS.map(item) },
    { label: 'View', submenu: [...VIEW_COMMANDS.map(item), { type: 'separator' }, { role: 'togglefullscreen' }, { role: 'toggleDevTools' }] },
    { label: 'Image', submenu: IMAGE_COMMANDS.map(item) },
  ];
}
