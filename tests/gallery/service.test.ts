// The gallery and autosave through the studio contract (StudioService handlers, real engine worker, tiny model):
// every result is saved before the result event, and the gallery channels work end to end.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecord, isCompletePng } from '../../src-main/gallery/index.js';
import { makeService, TINY, type Harness } from '../studio/host/helpers.js';
import { tinyPng, a1111Text, ourPng } from './helpers.js';

const small = { model: TINY, prompt: 'a red fox in the snow', width: 64, height: 64, steps: 2, seed: 42, sampler: 'euler' as const };

describe('gallery through the studio service', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeService();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('saves every result into the output folder before the result event; lists, thumbnails, image + parameters', async () => {
    const r = await h.service.handlers.generate({ ...small, batchCount: 2 });
    if (!r.ok) throw new Error(r.error.message);
    const end = await h.recorder.end(r.value.jobId);
    expect(end.event).toBe('result');
    const images = end.payload.images as Array<{ png: Uint8Array; saved?: { id: string; file: string } }>;
    expect(images.every((i) => i.saved)).toBe(true);
    const outDir = path.join(h.tmp, 'outputs'); // default: beside the settings file
    for (const img of images) {
      expect(img.saved!.file.startsWith(outDir + path.sep)).toBe(true);
      expect(Buffer.from(await readFile(img.saved!.file))).toEqual(Buffer.from(img.png));
    }
    const list = await h.service.handlers.galleryList({ text: 'fox' });
    if (!list.ok) throw new Error(list.error.message);
    expect(list.value.total).toBe(2);
    expect(list.value.folder).toBe(outDir);
    expect(list.value.items.map((i) => i.seed)).toEqual(['43', '42']); // newest first
    expect(list.value.items[0]).toMatchObject({ prompt: 'a red fox in the snow', model: 'tiny-sd15', steps: 2, sampler: 'euler', width: 64, height: 64, source: 'latent-studio' });
    expect(list.value.counts.models).toEqual([{ name: 'tiny-sd15', count: 2 }]);
    expect(h.recorder.events.some((e) => e.event === 'galleryChanged' && e.payload.reason === 'added')).toBe(true);

    const ids = list.value.items.map((i) => i.id);
    const thumbs = await h.service.handlers.galleryThumbnails({ ids: [...ids, 'nope/none'] });
    if (!thumbs.ok) throw new Error(thumbs.error.message);
    // StudioService's default thumbnailer is pure JS (PNG): the Electron main process loads no native module.
    expect(thumbs.value[0]!.mime).toBe('image/png');
    expect(await sharp(thumbs.value[0]!.data!).metadata()).toMatchObject({ format: 'png', width: 64, height: 64 });
    expect(thumbs.value[2]!.data).toBeNull();

    const img = await h.service.handlers.galleryImage({ id: ids[1]! });
    if (!img.ok) throw new Error(img.error.message);
    expect(isCompletePng(img.value.png)).toBe(true);
    expect(img.value.parameters).toMatchObject({ source: 'latent-studio', prompt: 'a red fox in the snow', seed: '42', steps: 2, cfgScale: 7 });

    const reveal = await h.service.handlers.galleryReveal({ id: ids[0]! });
    expect(reveal).toEqual({ ok: true, value: { path: list.value.items[0]!.file, shown: false } });
  });

  it('star, trash (undo), purge; errors for bad payloads and unknown ids', async () => {
    const list = await h.service.handlers.galleryList(undefined);
    if (!list.ok) throw new Error(list.error.message);
    const [a, b] = list.value.items;
    expect((await h.service.handlers.galleryStar({ ids: [a!.id], starred: true })).ok).toBe(true);
    expect((await h.service.handlers.galleryList({ starredOnly: true })).ok && (await h.service.handlers.galleryList({ starredOnly: true }))).toMatchObject({ value: { total: 1 } });
    expect(await h.service.handlers.galleryTrash({ ids: [b!.id] })).toEqual({ ok: true, value: { trashed: [b!.id] } });
    await expect(stat(b!.file)).rejects.toThrow();
    expect(await h.service.handlers.galleryRestore({ ids: [b!.id] })).toEqual({ ok: true, value: { restored: [b!.id] } });
    expect((await stat(b!.file)).isFile()).toBe(true);
    await h.service.handlers.galleryTrash({ ids: [b!.id] });
    expect(await h.service.handlers.galleryPurge({ all: true })).toEqual({ ok: true, value: { purged: [b!.id] } });
    const after = await h.service.handlers.galleryList(undefined);
    expect(after.ok && after.value.counts).toMatchObject({ all: 1, trash: 0, starred: 1 });

    const bad = await h.service.handlers.galleryStar({ ids: [], starred: 'yes' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('invalid-payload');
    const missing = await h.service.handlers.galleryImage({ id: 'no/such' });
    expect(!missing.ok && missing.error.code).toBe('not-found');
    expect(!( await h.service.handlers.galleryPurge({})).ok).toBe(true);
  });

  it('readImageParameters: a dropped A1111 PNG; not a PNG → bad-image', async () => {
    const png = await tinyPng([{ keyword: 'parameters', text: a1111Text('a dropped castle', 77) }]);
    const r = await h.service.handlers.readImageParameters({ png });
    expect(r).toMatchObject({ ok: true, value: { source: 'a1111', prompt: 'a dropped castle', seed: '77', steps: 20, sampler: 'euler-ancestral' } });
    const bad = await h.service.handlers.readImageParameters({ png: new Uint8Array([1, 2, 3]) });
    expect(!bad.ok && bad.error.code).toBe('bad-image');
  });

  it('rebuild from the PNGs; another output folder from the settings (only our images in it, a hostile journal ignored)', async () => {
    const rb = await h.service.handlers.galleryRebuild(undefined);
    expect(rb).toMatchObject({ ok: true, value: { count: 1, added: 0, removed: 0 } });
    const other = path.join(h.tmp, 'other-out');
    await mkdir(path.join(other, 'old'), { recursive: true });
    await mkdir(path.join(other, '2025-01-01'), { recursive: true });
    await mkdir(path.join(other, '.latent-studio'), { recursive: true });
    await mkdir(path.join(h.tmp, 'victim'), { recursive: true });
    const notOurs = await tinyPng([{ keyword: 'parameters', text: a1111Text('not ours', 5) }]);
    await writeFile(path.join(other, 'old', 'a1111.png'), notOurs);
    await writeFile(path.join(h.tmp, 'victim', 'private.png'), notOurs);
    await writeFile(path.join(other, '2025-01-01', '20250101-000000-000-5.png'), await ourPng('from before', 5)); // an earlier version's image
    const hostile = { op: 'put', e: { id: '../victim/private', createdAt: 1, width: 8, height: 8, bytes: 1, source: 'a1111', prompt: 'x', negativePrompt: '' }, trashed: true };
    await writeFile(path.join(other, '.latent-studio', 'index.journal'), encodeRecord(hostile));
    expect((await h.service.handlers.setSettings({ outputDir: other })).ok).toBe(true);
    const list = await h.service.handlers.galleryList(undefined);
    if (!list.ok) throw new Error(list.error.message);
    expect(list.value.folder).toBe(other);
    await h.service.gallery.reconciled;
    const again = await h.service.handlers.galleryList(undefined);
    expect(again.ok && again.value.items.map((i) => i.prompt)).toEqual(['from before']);
    const escaped = await h.service.handlers.galleryImage({ id: '../victim/private' });
    expect(!escaped.ok && escaped.error.code).toBe('not-found');
    expect(await h.service.handlers.galleryPurge({ all: true })).toEqual({ ok: true, value: { purged: [] } });
    expect(await h.service.handlers.galleryPurge({ ids: ['../victim/private'] })).toEqual({ ok: true, value: { purged: [] } });
    expect(Buffer.from(await readFile(path.join(h.tmp, 'victim', 'private.png')))).toEqual(Buffer.from(notOurs));
    expect(Buffer.from(await readFile(path.join(other, 'old', 'a1111.png')))).toEqual(Buffer.from(notOurs));
    // a result now lands in the new folder
    const r = await h.service.handlers.generate({ ...small, seed: 7 });
    if (!r.ok) throw new Error(r.error.message);
    const end = await h.recorder.end(r.value.jobId);
    expect(end.payload.images[0].saved.file.startsWith(other)).toBe(true);
  });

  it('an output folder that cannot be written: the result still arrives, with saveError and an error notice', async () => {
    const blocker = path.join(h.tmp, 'a-file');
    await writeFile(blocker, 'not a folder');
    await h.service.handlers.setSettings({ outputDir: path.join(blocker, 'sub') });
    const r = await h.service.handlers.generate({ ...small, seed: 9 });
    if (!r.ok) throw new Error(r.error.message);
    const end = await h.recorder.end(r.value.jobId);
    expect(end.event).toBe('result');
    expect(end.payload.images[0].saved).toBeUndefined();
    expect(end.payload.images[0].saveError.message).toMatch(/output folder|Cannot/);
    expect(h.recorder.events.some((e) => e.event === 'notice' && e.payload.level === 'error')).toBe(true);
    await h.service.handlers.setSettings({ outputDir: null });
  });

  it('autosave through the contract: save, load, missing-blobs, clear', async () => {
    const png = await tinyPng([], 64, 64, 3);
    const document = { version: 1 as const, width: 64, height: 64, image: 'img-a', mask: null, results: [], resultIndex: 0, settings: { prompt: 'x' } };
    const saved = await h.service.handlers.autosaveSave({ document, blobs: { 'img-a': png } });
    expect(saved).toMatchObject({ ok: true, value: { stored: ['img-a'] } });
    const again = await h.service.handlers.autosaveSave({ document: { ...document, settings: { prompt: 'y' } }, blobs: {} });
    expect(again.ok).toBe(true);
    const missing = await h.service.handlers.autosaveSave({ document: { ...document, mask: 'm-1' }, blobs: {} });
    expect(missing).toMatchObject({ ok: false, error: { code: 'missing-blobs', details: ['m-1'] } });
    const loaded = await h.service.handlers.autosaveLoad(undefined);
    if (!loaded.ok || !loaded.value) throw new Error('no document');
    expect(loaded.value.document.settings).toEqual({ prompt: 'y' });
    expect(Buffer.from(loaded.value.blobs['img-a']!)).toEqual(Buffer.from(png));
    const bad = await h.service.handlers.autosaveSave({ document: { ...document, image: '../../etc/passwd' }, blobs: {} });
    expect(!bad.ok && bad.error.code).toBe('invalid-payload');
    expect(await h.service.handlers.autosaveClear(undefined)).toEqual({ ok: true, value: { cleared: true } });
    expect(await h.service.handlers.autosaveLoad(undefined)).toEqual({ ok: true, value: null });
  });
});
