// State logic behind the issue-10 studio fixes: preview placement, re-fit on resize, saved tools, the shortcut
// sheet, notices that leave, and "use params" saying that it fixed the seed.
import { describe, expect, it } from 'vitest';
import { previewPlacement, type PreviewContext } from '../../../src-renderer/src/lib/canvas/preview-place.js';
import { commandFor, SHORTCUTS } from '../../../src-renderer/src/lib/canvas/keymap.js';
import { GalleryState } from '../../../src-renderer/src/lib/state/gallery.svelte.js';
import { Studio } from '../../../src-renderer/src/lib/state/studio.svelte.js';
import { ToolSettings } from '../../../src-renderer/src/lib/state/tool-settings.svelte.js';
import { Viewport } from '../../../src-renderer/src/lib/state/viewport.svelte.js';
import { FakeApi } from './fake-api.js';

const ctx = (extra: Partial<PreviewContext> = {}): PreviewContext => ({
  docWidth: 128,
  docHeight: 96,
  mode: 'img2img',
  maskBounds: null,
  inpaintOnlyMasked: false,
  inpaintPadding: 8,
  maskBlur: 4,
  ...extra,
});

describe('preview placement', () => {
  it('a canvas-size frame covers the canvas from the origin; img2img is not clipped', () => {
    expect(previewPlacement({ width: 128, height: 96 }, ctx())).toEqual({ place: { x: 0, y: 0, width: 128, height: 96 }, clip: null });
  });

  it('a latent (1/8) frame of the whole picture is scaled over the whole canvas', () => {
    expect(previewPlacement({ width: 16, height: 12 }, ctx()).place).toEqual({ x: 0, y: 0, width: 128, height: 96 });
  });

  it('inpainting: the preview is clipped to the masked area grown by the blur, not the whole canvas', () => {
    const p = previewPlacement({ width: 128, height: 96 }, ctx({ mode: 'inpaint', maskBounds: { x: 40, y: 30, width: 20, height: 10 } }));
    expect(p.place).toEqual({ x: 0, y: 0, width: 128, height: 96 });
    expect(p.clip).toEqual({ x: 36, y: 26, width: 28, height: 18 });
  });

  it('only-masked inpainting: a region-size frame goes to the padded mask region (clipped to the canvas)', () => {
    const c = ctx({ mode: 'inpaint', maskBounds: { x: 2, y: 30, width: 20, height: 10 }, inpaintOnlyMasked: true });
    const p = previewPlacement({ width: 64, height: 64 }, c);
    expect(p.place).toEqual({ x: 0, y: 22, width: 30, height: 26 });
    // A frame of the canvas size still means the whole picture.
    expect(previewPlacement({ width: 128, height: 96 }, c).place).toEqual({ x: 0, y: 0, width: 128, height: 96 });
  });
});

describe('viewport follows its element', () => {
  it('a fitted view fits again when the element shrinks or grows (a panel opens or closes)', () => {
    const v = new Viewport();
    v.viewWidth = 1000;
    v.viewHeight = 600;
    v.fit(64, 64);
    const wide = { scale: v.scale, x: v.x, y: v.y };
    v.resize(700, 600, 64, 64);
    expect(v.x + 32 * v.scale).toBeCloseTo(350, 0);
    v.resize(1000, 600, 64, 64);
    expect({ scale: v.scale, x: v.x, y: v.y }).toEqual(wide);
  });

  it('a zoomed view keeps the document point at the centre in place', () => {
    const v = new Viewport();
    v.viewWidth = 1000;
    v.viewHeight = 600;
    v.fit(64, 64);
    v.zoomAt({ x: 500, y: 300 }, 2);
    const centre = v.toDoc({ x: 500, y: 300 });
    v.resize(700, 600, 64, 64);
    expect(v.toDoc({ x: 350, y: 300 })).toEqual(centre);
  });

  it('fit keeps the bottom inset (the result bar) free', () => {
    const v = new Viewport();
    v.viewWidth = 800;
    v.viewHeight = 600;
    v.bottomInset = 56;
    v.fit(100, 100, 24);
    expect(v.y + 100 * v.scale).toBeLessThanOrEqual(600 - 56 - 24 + 1);
  });
});

describe('tools survive a reload', () => {
  it('restore takes back what saved gave, and ignores junk', () => {
    const a = new ToolSettings();
    a.tool = 'eraser';
    a.size = 137;
    a.hardness = 0.25;
    a.opacity = 0.6;
    const b = new ToolSettings();
    b.restore(JSON.parse(JSON.stringify(a.saved())));
    expect(b.saved()).toEqual({ tool: 'eraser', size: 137, hardness: 0.25, opacity: 0.6 });
    const c = new ToolSettings();
    c.restore({ tool: 'lasso', size: -4, hardness: 'hard', opacity: 7 });
    expect(c.saved()).toEqual(new ToolSettings().saved());
    c.restore(null);
    c.restore('text');
    expect(c.saved()).toEqual(new ToolSettings().saved());
  });
});

function makeStudio() {
  const api = new FakeApi();
  return { api, studio: new Studio(api.asApi()) };
}

describe('shortcut sheet and notices', () => {
  it('? opens the sheet, Esc closes it first; the sheet lists the shortcuts', () => {
    const { studio } = makeStudio();
    const q = commandFor({ key: '?', ctrlKey: false, metaKey: false, shiftKey: true, altKey: false });
    expect(q).toBe('shortcuts');
    expect(commandFor({ key: '?', ctrlKey: false, metaKey: false, shiftKey: true, altKey: false }, true)).toBeNull();
    studio.run(q!);
    expect(studio.shortcutsOpen).toBe(true);
    expect(studio.run('cancel')).toBe(true);
    expect(studio.shortcutsOpen).toBe(false);
    expect(SHORTCUTS.some(([k]) => k === '?')).toBe(true);
  });

  it('a notice leaves when dismissed, or when the next job starts', async () => {
    const { api, studio } = makeStudio();
    const g = studio.generation;
    await g.start({ prompt: 'x', model: 'm' } as never);
    api.emit('jobCancelled', { jobId: g.jobId! } as never);
    expect(g.notice).toBe('Cancelled.');
    g.dismissNotice();
    expect(g.notice).toBeNull();
    await g.start({ prompt: 'x', model: 'm' } as never);
    api.emit('jobCancelled', { jobId: g.jobId! } as never);
    expect(g.notice).toBe('Cancelled.');
    const next = g.start({ prompt: 'y', model: 'm' } as never);
    expect(g.notice).toBeNull();
    await next;
  });
});

describe('"use params" says when it fixes the seed', () => {
  it('a random seed mode switched to fixed is named in the message', async () => {
    const api = new FakeApi();
    api.handlers.galleryImage = () => ({ ok: true, value: { item: {}, png: new Uint8Array(), parameters: { source: 'latent-studio', prompt: 'p', negativePrompt: '', seed: '1234567890' } } });
    const studio = new Studio(api.asApi());
    const g = new GalleryState(api.asApi());
    expect(studio.settings.seedMode).toBe('random');
    await g.useParameters(studio, 'd/1');
    expect(studio.settings.seedMode).toBe('fixed');
    expect(g.message).toMatch(/seed fixed to 1234567890/);
    await g.useParameters(studio, 'd/1');
    expect(g.message).toBe('Parameters copied to the panel');
    g.dispose();
  });
});

describe('settings screen', () => {
  it('loads the host settings and the usable providers, saves the form, and shows the host refusing a value', async () => {
    const { AppSettingsState } = await import('../../../src-renderer/src/lib/state/app-settings.svelte.js');
    const api = new FakeApi();
    let stored = { backend: 'cpu', threads: 0, previewEvery: 1, decodePreviewEvery: 0, outputDir: null as string | null };
    api.handlers.getSettings = () => ({ ok: true, value: stored });
    api.handlers.listBackends = () => ({ ok: true, value: [{ name: 'cpu', listed: true, bundled: true }, { name: 'coreml', listed: false, bundled: false }] });
    api.handlers.setSettings = (p) => {
      const patch = p as Partial<typeof stored>;
      if ((patch.threads ?? 0) > 1024) return { ok: false, error: { code: 'invalid-request', message: 'threads: too big' } };
      stored = { ...stored, ...patch };
      return { ok: true, value: stored };
    };
    const s = new AppSettingsState(api.asApi());
    await s.load();
    expect(s.backends.map((b) => b.name)).toEqual(['cpu']);
    expect(s.form).toEqual({ backend: 'cpu', threads: 0, previewEvery: 1, decodePreviewEvery: 0, outputDir: '' });
    s.form.threads = 3;
    s.form.outputDir = '  /pictures  ';
    expect(await s.save()).toBe(true);
    expect(stored).toMatchObject({ threads: 3, outputDir: '/pictures' });
    s.form.outputDir = '';
    s.form.threads = 5000;
    expect(await s.save()).toBe(false);
    expect(s.error).toBe('threads: too big');
    s.form.threads = 2;
    expect(await s.save()).toBe(true);
    expect(stored.outputDir).toBeNull();
    expect(s.error).toBeNull();
  });
});
