import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandFor } from '../../../src-renderer/src/lib/canvas/keymap.js';
import { Studio } from '../../../src-renderer/src/lib/state/studio.svelte.js';
import { createRaster } from '../../../src-renderer/src/lib/raster/rgba-raster.js';
import { FakeApi } from './fake-api.js';

const press = (studio: Studio, key: string, mods: { ctrlKey?: boolean; shiftKey?: boolean } = {}) => {
  const cmd = commandFor({ key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
  return cmd ? studio.run(cmd) : false;
};
const at = (x: number, y: number, button = 0) => ({ doc: { x, y }, screen: { x, y }, button });

function makeStudio() {
  const api = new FakeApi();
  api.handlers.listModels = () => ({
    ok: true,
    value: [
      { id: 'bundled:broken', name: 'broken', dir: '/m/broken', source: 'bundled', hasVaeEncoder: false, problem: 'unet missing' },
      { id: 'bundled:tiny', name: 'tiny', dir: '/m/tiny', source: 'bundled', hasVaeEncoder: true, pipeline: 'StableDiffusionPipeline' },
    ],
  });
  api.handlers.getSettings = () => ({ ok: true, value: { lastModel: null } as never });
  return { api, studio: new Studio(api.asApi()) };
}

describe('Studio commands', () => {
  it('picks a usable model at start', async () => {
    const { studio } = makeStudio();
    await studio.init();
    expect(studio.models).toHaveLength(2);
    expect(studio.settings.model).toBe('bundled:tiny');
  });

  it('keys switch tools and size; Esc abandons a stroke before it cancels a job', () => {
    const { studio } = makeStudio();
    studio.doc.setImage(createRaster(64, 64, [0, 0, 0, 255]));
    press(studio, 'e');
    expect(studio.tools.tool).toBe('eraser');
    press(studio, 'b');
    const size = studio.tools.size;
    press(studio, ']');
    expect(studio.tools.size).toBeGreaterThan(size);
    studio.router.down(at(10, 10));
    studio.router.move(at(30, 10));
    expect(press(studio, 'Escape')).toBe(true);
    expect(studio.doc.mask.isEmpty()).toBe(true);
    expect(studio.doc.history.labels).toEqual(['Set image']);
  });

  it('Ctrl+Z / Ctrl+Shift+Z undo and redo a stroke; mode follows', () => {
    const { studio } = makeStudio();
    studio.doc.setImage(createRaster(64, 64, [0, 0, 0, 255]));
    studio.router.down(at(10, 10));
    studio.router.up(at(20, 20));
    expect(studio.doc.mode).toBe('inpaint');
    press(studio, 'z', { ctrlKey: true });
    expect(studio.doc.mode).toBe('img2img');
    press(studio, 'Z', { ctrlKey: true, shiftKey: true });
    expect(studio.doc.mode).toBe('inpaint');
  });

  it('undo is ignored mid-stroke (the stroke is not yet a change)', () => {
    const { studio } = makeStudio();
    studio.router.down(at(10, 10));
    expect(press(studio, 'z', { ctrlKey: true })).toBe(true);
    studio.router.up(at(12, 12));
    expect(studio.doc.history.labels).toEqual(['Brush stroke']);
  });
});

describe('live mode in the studio', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs img2img/inpaint only (nothing without an image)', () => {
    const { studio } = makeStudio();
    const generate = vi.spyOn(studio, 'generate').mockResolvedValue();
    studio.live.setEnabled(true);
    vi.advanceTimersByTime(300);
    expect(generate).not.toHaveBeenCalled();
    studio.doc.setImage(createRaster(64, 64));
    studio.live.changed();
    vi.advanceTimersByTime(300);
    expect(generate).toHaveBeenCalledWith('live');
  });
});
