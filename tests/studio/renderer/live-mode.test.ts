import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveMode } from '../../../src-renderer/src/lib/state/live-mode.svelte.js';

describe('live mode debounce', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs once, 250 ms after the last of a burst of changes', () => {
    const run = vi.fn();
    const live = new LiveMode(run, 250);
    live.setEnabled(true);
    vi.advanceTimersByTime(250);
    expect(run).toHaveBeenCalledTimes(1); // turning it on runs once
    for (let i = 0; i < 10; i++) {
      live.changed();
      vi.advanceTimersByTime(100);
    }
    expect(run).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(149);
    expect(run).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(2);
    expect(live.runs).toBe(2);
  });

  it('does nothing while off, and turning it off drops a pending run', () => {
    const run = vi.fn();
    const live = new LiveMode(run, 250);
    live.changed();
    vi.advanceTimersByTime(1000);
    expect(run).not.toHaveBeenCalled();
    live.setEnabled(true);
    live.changed();
    expect(live.pending).toBe(true);
    live.setEnabled(false);
    vi.advanceTimersByTime(1000);
    expect(run).not.toHaveBeenCalled();
  });
});
