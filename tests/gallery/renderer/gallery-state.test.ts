// The renderer's gallery state and autosave controller against a fake host (Node, no DOM).
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GalleryItem, ImportedParameters } from '../../../src-main/shared/contract.js';
import { Autosave, maskKey, type AutosaveCodec } from '../../../src-renderer/src/lib/state/autosave.js';
import { applyParameters, GalleryState } from '../../../src-renderer/src/lib/state/gallery.svelte.js';
import { Studio } from '../../../src-renderer/src/lib/state/studio.svelte.js';
import { createRaster, type RgbaRaster } from '../../../src-renderer/src/lib/raster/rgba-raster.js';
import { FakeApi } from '../../studio/renderer/fake-api.js';

function item(i: number, extra: Partial<GalleryItem> = {}): GalleryItem {
  return { id: `d/${i}`, file: `/out/d/${i}.png`, createdAt: 1000 + i, width: 8, height: 8, bytes: 100, source: 'latent-studio', prompt: `p${i}`, negativePrompt: '', starred: false, trashed: false, ...extra };
}

const counts = { all: 0, starred: 0, trash: 0, models: [] };

afterEach(() => {
  vi.useRealTimers();
});

describe('GalleryState', () => {
  it('builds the query from the filters and pages as the grid scrolls', async () => {
    const api = new FakeApi();
    const all = Array.from({ length: 450 }, (_, i) => item(449 - i));
    api.handlers.galleryList = (p) => {
      const q = p as { offset: number; limit: number };
      return { ok: true, value: { items: all.slice(q.offset, q.offset + q.limit), total: all.length, offset: q.offset, counts, folder: '/out', revision: 1 } };
    };
    const g = new GalleryState(api.asApi());
    g.text = '  red fox ';
    g.model = 'sd15';
    g.fromDate = '2026-01-02';
    g.toDate = '2026-01-02';
    g.starredOnly = true;
    await g.refresh();
    const q = api.calls.at(-1)!.payload as Record<string, unknown>;
    expect(q).toMatchObject({ text: 'red fox', model: 'sd15', starredOnly: true, offset: 0, limit: 200 });
    expect((q['to'] as number) - (q['from'] as number)).toBe(86_400_000);
    expect(q['trash']).toBeUndefined();
    expect(g.items).toHaveLength(200);
    expect(g.total).toBe(450);
    await g.ensureLoaded(10); // far from the end: nothing
    expect(api.calls).toHaveLength(1);
    await g.ensureLoaded(190);
    expect(g.items).toHaveLength(400);
    await g.ensureLoaded(399);
    expect(g.items).toHaveLength(450);
    expect(new Set(g.items.map((i) => i.id)).size).toBe(450);
    g.dispose();
  });

  it('delete moves to the trash with undo; empty trash purges', async () => {
    const api = new FakeApi();
    api.handlers.galleryList = () => ({ ok: true, value: { items: [item(1), item(2)], total: 2, offset: 0, counts, folder: '/out', revision: 1 } });
    api.handlers.galleryTrash = (p) => ({ ok: true, value: { trashed: (p as { ids: string[] }).ids } });
    api.handlers.galleryRestore = (p) => ({ ok: true, value: { restored: (p as { ids: string[] }).ids } });
    api.handlers.galleryPurge = () => ({ ok: true, value: { purged: ['d/2'] } });
    const g = new GalleryState(api.asApi());
    await g.refresh();
    await g.remove(['d/2']);
    expect(g.items.map((i) => i.id)).toEqual(['d/1']);
    expect(g.lastTrashed).toEqual(['d/2']);
    expect(g.message).toMatch(/trash/);
    await g.undoRemove();
    expect(api.calls.some((c) => c.channel === 'galleryRestore')).toBe(true);
    expect(g.items).toHaveLength(2);
    await g.emptyTrash();
    expect(api.calls.find((c) => c.channel === 'galleryPurge')!.payload).toEqual({ all: true });
    g.dispose();
  });

  it('thumbnails are fetched in one batch and cached as blob URLs', async () => {
    vi.useFakeTimers();
    const api = new FakeApi();
    api.handlers.galleryThumbnails = (p) => ({ ok: true, value: (p as { ids: string[] }).ids.map((id) => ({ id, data: new Uint8Array([1, 2, 3]) })) });
    const g = new GalleryState(api.asApi());
    expect(g.thumbnailUrl('a')).toBeNull();
    expect(g.thumbnailUrl('b')).toBeNull();
    await vi.advanceTimersByTimeAsync(20);
    expect(api.calls.filter((c) => c.channel === 'galleryThumbnails')).toHaveLength(1);
    expect(g.thumbnailUrl('a')).toMatch(/^blob:/);
    expect(g.thumbsVersion).toBe(1);
    g.dispose();
  });

  it('a dropped PNG\'s parameters go into the panel (model matched by name); "use seed" sets only the seed', async () => {
    const api = new FakeApi();
    const params: ImportedParameters = { source: 'comfyui', prompt: 'a lighthouse', negativePrompt: 'fog', seed: '99', steps: 12, cfgScale: 4.5, sampler: 'euler-ancestral', model: 'Tiny', strength: 0.6 };
    api.handlers.readImageParameters = () => ({ ok: true, value: params });
    api.handlers.galleryImage = () => ({ ok: true, value: { item: item(1), png: new Uint8Array(), parameters: { ...params, seed: '7', prompt: 'other' } } });
    const studio = new Studio(api.asApi());
    studio.models = [{ id: 'bundled:tiny', name: 'tiny', dir: '/m', source: 'bundled', hasVaeEncoder: true }];
    const g = new GalleryState(api.asApi());
    await g.readDropped(studio, new Uint8Array([0x89]));
    expect(studio.settings).toMatchObject({ prompt: 'a lighthouse', negativePrompt: 'fog', seed: '99', seedMode: 'fixed', steps: 12, cfgScale: 4.5, sampler: 'euler-ancestral', model: 'bundled:tiny', strength: 0.6 });
    expect(g.message).toBe('Parameters read from ComfyUI');
    await g.useParameters(studio, 'd/1', 'seed');
    expect(studio.settings.seed).toBe('7');
    expect(studio.settings.prompt).toBe('a lighthouse');
    expect(applyParameters(studio, { source: 'a1111', prompt: 'x', negativePrompt: '', sampler: 'Weird' })).toEqual(['prompt', 'negativePrompt']);
    expect(applyParameters(studio, { source: 'a1111', prompt: 'x', negativePrompt: '', width: 96, height: 64 })).toContain('size');
    expect([studio.doc.width, studio.doc.height]).toEqual([96, 64]);
    g.dispose();
  });
});

/** Fake codec: "PNG" bytes are a header + the raster's pixels; decode reverses it. */
const codec: AutosaveCodec = {
  async encodeRaster(r) {
    const out = new Uint8Array(8 + r.data.length);
    new DataView(out.buffer).setUint32(0, r.width);
    new DataView(out.buffer).setUint32(4, r.height);
    out.set(r.data, 8);
    return out;
  },
  async encodeMask(m) {
    const rgba = new Uint8ClampedArray(m.width * m.height * 4);
    for (let i = 0; i < m.data.length; i++) rgba.fill(m.data[i]!, i * 4, i * 4 + 3), (rgba[i * 4 + 3] = 255);
    return codec.encodeRaster({ width: m.width, height: m.height, data: rgba });
  },
  async decode(png): Promise<RgbaRaster> {
    const dv = new DataView(png.buffer, png.byteOffset);
    return { width: dv.getUint32(0), height: dv.getUint32(4), data: new Uint8ClampedArray(png.slice(8)) };
  },
};

describe('Autosave', () => {
  function setup() {
    const api = new FakeApi();
    const saved: Array<{ document: any; blobs: Record<string, Uint8Array> }> = [];
    const have = new Map<string, Uint8Array>();
    api.handlers.autosaveSave = (p) => {
      const payload = p as { document: any; blobs: Record<string, Uint8Array> };
      const ids = [payload.document.image, payload.document.mask, ...payload.document.results.map((r: any) => r.blob)].filter(Boolean);
      const missing = ids.filter((id: string) => !have.has(id) && !payload.blobs[id]);
      if (missing.length) return { ok: false, error: { code: 'missing-blobs', message: 'missing', details: missing } };
      for (const [k, v] of Object.entries(payload.blobs)) have.set(k, v);
      saved.push(payload);
      return { ok: true, value: { savedAt: Date.now(), stored: ids } };
    };
    api.handlers.autosaveLoad = () => ({ ok: true, value: null });
    const studio = new Studio(api.asApi());
    const autosave = new Autosave(api.asApi(), studio, codec, 1000);
    return { api, studio, autosave, saved, have };
  }

  it('does not save before restore ran; then saves ~1 s after changes settle, sending each image once', async () => {
    vi.useFakeTimers();
    const { studio, autosave, saved } = setup();
    autosave.changed();
    await vi.advanceTimersByTimeAsync(2000);
    expect(saved).toHaveLength(0); // a blank canvas at start never overwrites the saved document
    await autosave.restore();
    studio.doc.setImage(createRaster(16, 16, [10, 20, 30, 255]));
    autosave.changed();
    await vi.advanceTimersByTimeAsync(500);
    studio.settings.prompt = 'a fox';
    autosave.changed();
    await vi.advanceTimersByTimeAsync(999);
    expect(saved).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(10);
    expect(saved).toHaveLength(1);
    expect(Object.keys(saved[0]!.blobs)).toEqual([saved[0]!.document.image]);
    expect(saved[0]!.document.settings.prompt).toBe('a fox');
    // prompt only: the image is not sent again
    studio.settings.prompt = 'a red fox';
    await autosave.flush();
    expect(saved[1]!.blobs).toEqual({});
    expect(saved[1]!.document.image).toBe(saved[0]!.document.image);
    // a mask stroke: only the mask is sent
    const rect = { x: 0, y: 0, width: 4, height: 4 };
    const before = studio.doc.mask.readRect(rect);
    const after = new Uint8Array(16).fill(255);
    studio.doc.mask.writeRect(rect, after);
    studio.doc.commitStroke({ rect, before, after });
    await autosave.flush();
    expect(Object.keys(saved[2]!.blobs)).toEqual([maskKey(studio.doc.mask)]);
    autosave.dispose();
  });

  it('resends everything when the host lost blobs; restores image, mask, settings and staged results', async () => {
    const { api, studio, autosave, saved, have } = setup();
    await autosave.restore();
    studio.doc.setImage(createRaster(16, 8, [1, 2, 3, 255]));
    const rect = { x: 0, y: 0, width: 2, height: 2 };
    studio.doc.commitStroke({ rect, before: studio.doc.mask.readRect(rect), after: (studio.doc.mask.writeRect(rect, new Uint8Array(4).fill(200)), new Uint8Array(4).fill(200)) });
    studio.results.show([{ raster: createRaster(16, 8, [9, 9, 9, 255]), seed: '5', infotext: 'i', png: await codec.encodeRaster(createRaster(16, 8, [9, 9, 9, 255])) }], 'generate');
    studio.settings.steps = 33;
    await autosave.flush();
    have.clear(); // the host forgot them
    studio.settings.steps = 34;
    await autosave.flush();
    expect(Object.keys(saved.at(-1)!.blobs)).toHaveLength(3);
    // next start
    const last = saved.at(-1)!;
    api.handlers.autosaveLoad = () => ({ ok: true, value: { document: last.document, blobs: Object.fromEntries(have), savedAt: 1, fromBackup: false } });
    const fresh = new Studio(api.asApi());
    const again = new Autosave(api.asApi(), fresh, codec, 1000);
    expect(await again.restore()).toBe(true);
    expect(fresh.doc.width).toBe(16);
    expect(fresh.doc.height).toBe(8);
    expect(fresh.doc.image!.data[0]).toBe(1);
    expect(fresh.doc.mask.data[0]).toBe(200);
    expect(fresh.doc.maskEmpty).toBe(false);
    expect(fresh.settings.steps).toBe(34);
    expect(fresh.results.count).toBe(1);
    expect(fresh.results.current!.seed).toBe('5');
    expect(fresh.doc.history.canUndo).toBe(false);
    autosave.dispose();
    again.dispose();
  });
});
