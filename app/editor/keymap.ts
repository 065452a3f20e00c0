import type { MenuCommand } from '../contract/channels.js';
import type { EditorCommand } from './commands.js';
import type { ToolName } from './tools/tool.js';

export interface KeyInput {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  shiftKey?: boolean;
  altKey?: boolean;
}

const TOOL_KEYS: Record<string, ToolName> = { b: 'brush', e: 'eraser', p: 'polygon', g: 'fill', a: 'accept' };

/** Key bindings shown in the editor's help: 1–9 classes, 0 background, [ ] brush, Ctrl+Z / Ctrl+Shift+Z. */
export const KEY_HELP: ReadonlyArray<[string, string]> = [
  ['1–9, 0', 'class, background'],
  ['B E P G A', 'tools'],
  ['[  ]', 'brush size'],
  ['Ctrl Z', 'undo'],
  ['Ctrl ⇧ Z', 'redo'],
  ['Enter, Esc', 'close, cancel polygon'],
  ['←  →', 'previous, next image'],
  ['F, Ctrl 0', 'fit, actual size'],
  ['Space drag', 'pan (or middle button)'],
  ['Wheel', 'zoom'],
  ['V', 'show prediction'],
];

export function commandForKey(input: KeyInput): EditorCommand | null {
  const command = input.ctrlKey || input.metaKey;
  const key = input.key.length === 1 ? input.key.toLowerCase() : input.key;
  if (command) {
    if (key === 'z') return input.shiftKey ? { kind: 'redo' } : { kind: 'undo' };
    if (key === 'y') return { kind: 'redo' };
    if (key === '0') return { kind: 'zoom', to: 'actual' };
    return null;
  }
  if (input.altKey) return null;
  if (/^[0-9]$/.test(key)) return { kind: 'label', label: Number(key) };
  if (key === '[') return { kind: 'brush', direction: -1 };
  if (key === ']') return { kind: 'brush', direction: 1 };
  if (key === 'Enter') return { kind: 'complete' };
  if (key === 'Escape') return { kind: 'cancel' };
  if (key === 'ArrowRight' || key === 'PageDown') return { kind: 'image', direction: 1 };
  if (key === 'ArrowLeft' || key === 'PageUp') return { kind: 'image', direction: -1 };
  if (key === 'f') return { kind: 'zoom', to: 'fit' };
  if (key === 'v') return { kind: 'toggle-prediction' };
  const tool = TOOL_KEYS[key];
  return tool ? { kind: 'tool', tool } : null;
}

/** The desktop menu's editor items (Electron sends their ids), as the same commands as the keys; every item has one. */
const MENU_COMMANDS: Record<MenuCommand, EditorCommand> = {
  undo: { kind: 'undo' },
  redo: { kind: 'redo' },
  'brush.paint': { kind: 'tool', tool: 'brush' },
  'brush.erase': { kind: 'tool', tool: 'eraser' },
  'brush.smaller': { kind: 'brush', direction: -1 },
  'brush.larger': { kind: 'brush', direction: 1 },
  'zoom.fit': { kind: 'zoom', to: 'fit' },
  'zoom.actual': { kind: 'zoom', to: 'actual' },
  'zoom.in': { kind: 'zoom', to: 'in' },
  'zoom.out': { kind: 'zoom', to: 'out' },
  'image.next': { kind: 'image', direction: 1 },
  'image.previous': { kind: 'image', direction: -1 },
};

export function commandForMenu(menuCommand: MenuCommand): EditorCommand {
  return MENU_COMMANDS[menuCommand];
}
