import { describe, expect, it } from 'vitest';
import { History, type Change } from '../../../src-renderer/src/lib/state/history.svelte.js';

function change(label: string, bytes: number, log: string[]): Change {
  return { label, bytes, undo: () => log.push(`undo ${label}`), redo: () => log.push(`redo ${label}`) };
}

describe('History', () => {
  it('undoes and redoes in order; a new change clears redo', () => {
    const log: string[] = [];
    const h = new History(1000);
    h.push(change('a', 10, log));
    h.push(change('b', 10, log));
    expect(h.canUndo).toBe(true);
    expect(h.canRedo).toBe(false);
    h.undo();
    h.undo();
    expect(h.undo()).toBe(false);
    h.redo();
    expect(log).toEqual(['undo b', 'undo a', 'redo a']);
    expect(h.canRedo).toBe(true);
    h.push(change('c', 10, log));
    expect(h.canRedo).toBe(false);
    expect(h.labels).toEqual(['a', 'c']);
  });

  it('is bounded by bytes, not by entries: the oldest go first, the newest always stays', () => {
    const log: string[] = [];
    const h = new History(100);
    for (let i = 0; i < 50; i++) h.push(change(`small${i}`, 1, log));
    expect(h.undoCount).toBe(50); // 50 entries fit in 100 bytes
    h.push(change('big', 60, log));
    expect(h.bytes).toBeLessThanOrEqual(100);
    expect(h.labels.at(-1)).toBe('big');
    expect(h.labels[0]).toBe('small10');
    h.push(change('huge', 500, log)); // bigger than the budget on its own: kept alone
    expect(h.labels).toEqual(['huge']);
    expect(h.bytes).toBe(500);
  });

  it('shrinking the budget evicts', () => {
    const h = new History(1000);
    for (let i = 0; i < 10; i++) h.push(change(`c${i}`, 100, []));
    h.setBudget(250);
    expect(h.labels).toEqual(['c8', 'c9']);
  });
});
