// Keyboard shortcuts → commands. Pure: the App decides what each command does.

export type Command =
  | 'tool.brush'
  | 'tool.eraser'
  | 'tool.move'
  | 'brush.smaller'
  | 'brush.larger'
  | 'undo'
  | 'redo'
  | 'zoom.fit'
  | 'zoom.actual'
  | 'generate'
  | 'cancel'
  | 'result.accept'
  | 'result.discard'
  | 'result.next'
  | 'result.previous'
  | 'mask.invert'
  | 'mask.clear'
  | 'shortcuts';

/** File shortcuts: handled by the App's file commands (lib/files), not by the Studio. */
export type FileCommand = 'file.new' | 'file.open' | 'file.save' | 'file.export';

export interface KeyLike {
  key: string;
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/**
 * The command for a key press. `inTextField`: focus is in a text input, where only the global
 * shortcuts (Ctrl+Enter, Esc) apply and everything else stays with the field.
 */
export function commandFor(e: KeyLike, inTextField = false): Command | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (mod && key === 'Enter') return 'generate';
  if (key === 'Escape') return 'cancel';
  if (inTextField || e.altKey) return null;
  if (key === '?') return 'shortcuts';
  if (mod) {
    if (key === 'z') return e.shiftKey ? 'redo' : 'undo';
    if (key === 'y') return 'redo';
    if (key === '0' || e.code === 'Digit0') return 'zoom.fit';
    if (key === '1' || e.code === 'Digit1') return 'zoom.actual';
    if (key === 'i' && e.shiftKey) return 'mask.invert';
    return null;
  }
  switch (key) {
    case 'b':
      return 'tool.brush';
    case 'e':
      return 'tool.eraser';
    case 'v':
    case 'h':
      return 'tool.move';
    case '[':
      return 'brush.smaller';
    case ']':
      return 'brush.larger';
    case 'a':
      return 'result.accept';
    case 'Backspace':
    case 'Delete':
      return e.shiftKey ? 'mask.clear' : 'result.discard';
    case 'ArrowRight':
      return 'result.next';
    case 'ArrowLeft':
      return 'result.previous';
    default:
      return null;
  }
}

/** The shortcut sheet (`?`): keys and what they do, in the order shown. */
export const SHORTCUTS: ReadonlyArray<readonly [keys: string, action: string]> = [
  ['Ctrl+Enter', 'Generate'],
  ['Esc', 'Cancel the run, close a sheet or an error'],
  ['A', 'Accept the result'],
  ['Delete', 'Discard the result (in the gallery: delete the selected image)'],
  ['← / →', 'Previous / next result of a batch'],
  ['B / E', 'Mask brush / mask eraser'],
  ['V or H, Space-drag, middle mouse', 'Move the view'],
  ['[ / ]', 'Smaller / larger brush'],
  ['Shift+Delete', 'Clear the mask'],
  ['Ctrl+Shift+I', 'Invert the mask'],
  ['Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y', 'Undo / redo'],
  ['Ctrl+0 / Ctrl+1', 'Fit / 100%'],
  ['Mouse wheel', 'Zoom around the pointer'],
  ['Ctrl+N / Ctrl+O / Ctrl+S', 'New / open / save the document (.ora)'],
  ['Ctrl+Shift+E', 'Export the picture as PNG'],
  ['?', 'This sheet'],
];

/** The file command for a key press (Ctrl+N/O/S, Ctrl+Shift+E); these apply in text fields too, like the browser's own. */
export function fileCommandFor(e: KeyLike): FileCommand | null {
  if (!(e.ctrlKey || e.metaKey) || e.altKey) return null;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (e.shiftKey) return key === 'e' ? 'file.export' : null;
  if (key === 'n') return 'file.new';
  if (key === 'o') return 'file.open';
  if (key === 's') return 'file.save';
  return null;
}

/** Whether an event target is a place where typing goes (prompt boxes, number fields). */
export function isTextField(target: EventTarget | null): boolean {
  if (!target || typeof (target as HTMLElement).tagName !== 'string') return false;
  const el = target as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (tag === 'textarea' || el.isContentEditable) return true;
  if (tag !== 'input') return false;
  const type = (el as HTMLInputElement).type;
  return !['checkbox', 'radio', 'range', 'button', 'submit'].includes(type);
}
