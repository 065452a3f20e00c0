import type { MenuCommand } from '../contract/channels.js';
import { IGNORE_LABEL } from '../contract/schemas.js';
import type { EditorCommand } from './commands.js';
import type { ToolName } from './tools/tool.js';

export interface KeyInput {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  shiftKey?: boolean;
  altKey?: boolean;
}

/**
 * One key binding: how the help overlay names the keys and what they do, and the command a press
 * makes (null when the press is not this binding's). The help is generated from this list, so a key
 * cannot work without being listed, nor be listed without working.
 */
export interface KeyBinding {
  keys: string;
  action: string;
  command(press: KeyPress): EditorCommand | null;
}

/** A key event as the bindings read it: single characters lower-cased, modifiers folded. */
interface KeyPress {
  key: string;
  /** Ctrl, or Cmd on macOS. */
  command: boolean;
  shift: boolean;
}

/** A binding for one plain key (no Ctrl/Cmd; Shift only when asked for). */
function plain(key: string, command: EditorCommand, shift = false): KeyBinding['command'] {
  return (press) => (!press.command && press.key === key && press.shift === shift ? command : null);
}

function withCommandKey(key: string, command: EditorCommand, shift = false): KeyBinding['command'] {
  return (press) => (press.command && press.key === key && press.shift === shift ? command : null);
}

function anyOf(...commands: Array<KeyBinding['command']>): KeyBinding['command'] {
  return (press) => commands.reduce<EditorCommand | null>((found, command) => found ?? command(press), null);
}

const TOOL_KEYS: Array<[string, ToolName, string]> = [
  ['b', 'brush', 'brush'],
  ['e', 'eraser', 'eraser'],
  ['p', 'polygon', 'polygon / lasso fill'],
  ['g', 'fill', 'flood fill'],
  ['a', 'accept', 'accept prediction in a region'],
];

export const KEY_BINDINGS: readonly KeyBinding[] = [
  {
    keys: '1–9',
    action: 'class 1–9',
    command: (press) => (!press.command && /^[1-9]$/.test(press.key) ? { kind: 'label', label: Number(press.key) } : null),
  },
  { keys: '0', action: 'background', command: plain('0', { kind: 'label', label: 0 }) },
  { keys: 'I', action: 'ignore (unlabelled, 255)', command: plain('i', { kind: 'label', label: IGNORE_LABEL }) },
  ...TOOL_KEYS.map(([key, tool, name]): KeyBinding => ({ keys: key.toUpperCase(), action: `${name} tool`, command: plain(key, { kind: 'tool', tool }) })),
  { keys: '⇧ G', action: 'fill holes in the class', command: plain('g', { kind: 'fill-holes' }, true) },
  { keys: 'L', action: 'preserve labels on / off', command: plain('l', { kind: 'preserve-labels' }) },
  { keys: 'U', action: 'eraser to unlabelled on / off', command: plain('u', { kind: 'erase-to-unlabelled' }) },
  { keys: '[  ]', action: 'brush size', command: anyOf(plain('[', { kind: 'brush', direction: -1 }), plain(']', { kind: 'brush', direction: 1 })) },
  { keys: 'Ctrl Z', action: 'undo', command: withCommandKey('z', { kind: 'undo' }) },
  { keys: 'Ctrl ⇧ Z, Ctrl Y', action: 'redo', command: anyOf(withCommandKey('z', { kind: 'redo' }, true), withCommandKey('y', { kind: 'redo' })) },
  { keys: 'Enter, Esc', action: 'close, cancel polygon', command: anyOf(plain('Enter', { kind: 'complete' }), plain('Escape', { kind: 'cancel' })) },
  {
    keys: '←  →',
    action: 'previous, next image',
    command: anyOf(plain('ArrowLeft', { kind: 'image', direction: -1 }), plain('PageUp', { kind: 'image', direction: -1 }), plain('ArrowRight', { kind: 'image', direction: 1 }), plain('PageDown', { kind: 'image', direction: 1 })),
  },
  { keys: 'F', action: 'fit', command: plain('f', { kind: 'zoom', to: 'fit' }) },
  { keys: 'Ctrl 0', action: 'actual size', command: withCommandKey('0', { kind: 'zoom', to: 'actual' }) },
  { keys: 'H', action: 'hide / show mask', command: plain('h', { kind: 'toggle-mask' }) },
  { keys: 'O', action: 'mask as outlines', command: plain('o', { kind: 'toggle-outline' }) },
  { keys: 'V', action: 'show prediction', command: plain('v', { kind: 'toggle-prediction' }) },
  { keys: '?', action: 'this list of keys', command: (press) => (!press.command && press.key === '?' ? { kind: 'help' } : null) },
];

/** Pointer gestures the canvas handles itself, listed with the keys in the help. */
export const POINTER_HELP: ReadonlyArray<[string, string]> = [
  ['Space drag', 'pan (or middle button)'],
  ['Wheel', 'zoom'],
];

/** Keys the image list panel handles itself (it knows the dataset's order), listed with the others. */
export const IMAGE_LIST_HELP: ReadonlyArray<[string, string]> = [['N, ⇧ N', 'next unlabelled, next least confident image']];

/** Every key and gesture with what it does, for the help overlay and the editor's panel. */
export const KEY_HELP: ReadonlyArray<[string, string]> = [...KEY_BINDINGS.map((binding): [string, string] => [binding.keys, binding.action]), ...IMAGE_LIST_HELP, ...POINTER_HELP];

export function commandForKey(input: KeyInput): EditorCommand | null {
  if (input.altKey) return null;
  const press: KeyPress = {
    key: input.key.length === 1 ? input.key.toLowerCase() : input.key,
    command: Boolean(input.ctrlKey || input.metaKey),
    shift: Boolean(input.shiftKey),
  };
  for (const binding of KEY_BINDINGS) {
    const command = binding.command(press);
    if (command) return command;
  }
  return null;
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
