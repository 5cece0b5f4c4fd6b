import { describe, expect, it } from 'vitest';
import { commandFor, type KeyLike } from '../../../src-renderer/src/lib/canvas/keymap.js';

const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

describe('keymap', () => {
  it('maps the studio shortcuts', () => {
    expect(commandFor(key('b'))).toBe('tool.brush');
    expect(commandFor(key('E', { shiftKey: true }))).toBe('tool.eraser');
    expect(commandFor(key('['))).toBe('brush.smaller');
    expect(commandFor(key(']'))).toBe('brush.larger');
    expect(commandFor(key('z', { ctrlKey: true }))).toBe('undo');
    expect(commandFor(key('Z', { ctrlKey: true, shiftKey: true }))).toBe('redo');
    expect(commandFor(key('z', { metaKey: true, shiftKey: true }))).toBe('redo');
    expect(commandFor(key('0', { ctrlKey: true }))).toBe('zoom.fit');
    expect(commandFor(key('1', { ctrlKey: true }))).toBe('zoom.actual');
    expect(commandFor(key('Enter', { ctrlKey: true }))).toBe('generate');
    expect(commandFor(key('Escape'))).toBe('cancel');
    expect(commandFor(key('a'))).toBe('result.accept');
  });

  it('leaves typing to text fields except Ctrl+Enter and Esc', () => {
    expect(commandFor(key('b'), true)).toBeNull();
    expect(commandFor(key('z', { ctrlKey: true }), true)).toBeNull();
    expect(commandFor(key('Enter', { ctrlKey: true }), true)).toBe('generate');
    expect(commandFor(key('Escape'), true)).toBe('cancel');
  });
});
