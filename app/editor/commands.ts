import type { ToolName } from './tools/tool.js';

/**
 * Everything the editor can be asked to do, whoever asks: a key, the desktop menu or a toolbar
 * button. Each goes through EditorSession.execute, the one path (editing commands reach the
 * MaskEditor's own execute).
 */
export type EditorCommand = MaskCommand | SessionCommand;

/** Commands that change one image's mask session: tools, class, brush, history, the shape in progress. */
export type MaskCommand =
  | { kind: 'label'; label: number }
  | { kind: 'tool'; tool: ToolName }
  | { kind: 'brush'; direction: 1 | -1 }
  | { kind: 'brush-size'; radius: number }
  | { kind: 'undo' }
  | { kind: 'redo' }
  | { kind: 'complete' }
  | { kind: 'cancel' }
  | { kind: 'accept-prediction' }
  | { kind: 'fill-holes' }
  | { kind: 'preserve-labels'; on?: boolean }
  | { kind: 'erase-to-unlabelled'; on?: boolean };

/** Commands about what is shown: which image, the view of it, how the layers look. */
export type SessionCommand =
  | { kind: 'image'; direction: 1 | -1 }
  | { kind: 'zoom'; to: 'fit' | 'actual' | 'in' | 'out' }
  | { kind: 'toggle-prediction' }
  | { kind: 'toggle-mask' }
  | { kind: 'toggle-outline' }
  /** The help overlay listing every key; `open` sets it, without it the key toggles. */
  | { kind: 'help'; open?: boolean }
  | { kind: 'mask-opacity'; opacity: number }
  | { kind: 'retry-save' };

const MASK_COMMANDS = new Set<MaskCommand['kind']>(['label', 'tool', 'brush', 'brush-size', 'undo', 'redo', 'complete', 'cancel', 'accept-prediction', 'fill-holes', 'preserve-labels', 'erase-to-unlabelled']);

export function isMaskCommand(command: EditorCommand): command is MaskCommand {
  return MASK_COMMANDS.has(command.kind as MaskCommand['kind']);
}
