// Autosave of the canvas document: round trip, images sent once, the previous save kept and used when the
// latest is damaged, unused images collected, a full disk (injected ENOSPC) never loses the last good save.
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AutosaveError, DocumentStore } from '../../src-main/autosave/index.js';
import { realFs, writeFileAtomic, type AtomicFs } from '../../src-main/durable/index.js';
import type { AutosaveDocument } from '../../src-main/shared/gallery.js';
import { tinyPng } from '../gallery/helpers.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-autosave-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function doc(n: number, image: string | null, mask: string | null, results: AutosaveDocument['results'] = []): AutosaveDocument {
  return { version: 1, width: 64, height: 48, image, mask, results, resultIndex: 0, settings: { n, prompt: `a fox ${n}`, steps: 20 } };
}

describe('autosave document store', () => {
  it('saves and loads the document with its images; nothing saved → null', async () => {
    const store = new DocumentStore(path.join(tmp, 'a'));
    expect(await store.load()).toBeNull();
    const image = await tinyPng([], 64, 48, 1);
    const mask = await tinyPng([], 64, 48, 2);
    const result = await tinyPng([], 64, 48, 3);
    const saved = await store.save({ document: doc(1, 'img1', 'mask1', [{ blob: 'res1', seed: '42', infotext: 'x' }]), blobs: { img1: image, mask1: mask, res1: result } });
    expect(saved.stored.sort()).toEqual(['img1', 'mask1', 'res1']);
    const loaded = await new DocumentStore(path.join(tmp, 'a')).load();
    expect(loaded).toMatchObject({ fromBackup: false, document: doc(1, 'img1', 'mask1', [{ blob: 'res1', seed: '42', infotext: 'x' }]) });
    expect(Buffer.from(loaded!.blobs['img1']!)).toEqual(Buffer.from(image));
    expect(Buffer.from(loaded!.blobs['res1']!)).toEqual(Buffer.from(result));
  });

  it('unchanged images are not sent again; an unknown one is asked for (missing-blobs)', async () => {
    const dir = path.join(tmp, 'b');
    const store = new DocumentStore(dir);
    await store.save({ document: doc(1, 'img', 'm1'), blobs: { img: await tinyPng([], 64, 48, 1), m1: await tinyPng([], 64, 48, 2) } });
    await store.save({ document: doc(2, 'img', 'm2'), blobs: { m2: await tinyPng([], 64, 48, 3) } }); // img not re-sent
    const err = await store.save({ document: doc(3, 'img', 'nope'), blobs: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AutosaveError);
    expect(err).toMatchObject({ code: 'missing-blobs', details: ['nope'] });
    // A fresh store (next app start) knows the stored images too.
    const again = new DocumentStore(dir);
    await again.save({ document: doc(3, 'img', 'm2'), blobs: {} });
    expect((await again.load())!.document.settings['n']).toBe(3);
  });

  it('keeps the previous save: a damaged latest save (or a damaged image of it) loads the one before', async () => {
    const dir = path.join(tmp, 'c');
    const store = new DocumentStore(dir);
    await store.save({ document: doc(1, 'i1', null), blobs: { i1: await tinyPng([], 64, 48, 1) } });
    await store.save({ document: doc(2, 'i2', null), blobs: { i2: await tinyPng([], 64, 48, 2) } });
    expect((await readdir(path.join(dir, 'blobs'))).sort()).toEqual(['i1.png', 'i2.png']);
    // torn latest save
    const current = await readFile(store.currentFile);
    await writeFile(store.currentFile, current.subarray(0, current.length >> 1));
    let loaded = await new DocumentStore(dir).load();
    expect(loaded).toMatchObject({ fromBackup: true });
    expect(loaded!.document.settings['n']).toBe(1);
    // restore, then damage the latest image instead
    await writeFile(store.currentFile, current);
    expect((await new DocumentStore(dir).load())!.document.settings['n']).toBe(2);
    await writeFile(path.join(dir, 'blobs', 'i2.png'), 'garbage');
    loaded = await new DocumentStore(dir).load();
    expect(loaded!.fromBackup).toBe(true);
    expect(loaded!.document.image).toBe('i1');
    // the latest save missing entirely (killed between its two renames)
    await unlink(store.currentFile);
    expect((await new DocumentStore(dir).load())!.document.settings['n']).toBe(1);
  });

  it('collects images neither save uses, and temp files of a crash', async () => {
    const dir = path.join(tmp, 'd');
    const store = new DocumentStore(dir);
    for (let n = 1; n <= 4; n++) await store.save({ document: doc(n, `i${n}`, null), blobs: { [`i${n}`]: await tinyPng([], 8, 8, n) } });
    await writeFile(path.join(dir, 'blobs', '.i9.png.tmp-1-1'), 'x');
    await store.save({ document: doc(5, 'i4', null), blobs: {} });
    expect((await readdir(path.join(dir, 'blobs'))).sort()).toEqual(['i4.png']);
    expect(await store.clear()).toEqual({ cleared: true });
    expect(await store.load()).toBeNull();
    expect(await readdir(path.join(dir, 'blobs'))).toEqual([]);
  });

  it('a full disk (injected ENOSPC) while saving: clear error, the last good save still loads', async () => {
    let full = false;
    const fs: AtomicFs = {
      ...realFs,
      open: (async (file: string, flags?: string, mode?: number) => {
        const h = await realFs.open(file, flags, mode);
        if (full && flags === 'wx') {
          (h as unknown as { write: unknown }).write = async () => {
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          };
        }
        return h;
      }) as AtomicFs['open'],
    };
    const dir = path.join(tmp, 'e');
    const store = new DocumentStore(dir, { fs });
    await store.save({ document: doc(1, 'i1', null), blobs: { i1: await tinyPng([], 8, 8, 1) } });
    full = true;
    const err = await store.save({ document: doc(2, 'i2', null), blobs: { i2: await tinyPng([], 8, 8, 2) } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'disk-full' });
    expect((err as Error).message).toMatch(/disk is full/);
    // also a failure of the JSON itself (images already stored)
    full = false;
    await store.save({ document: doc(2, 'i2', null), blobs: { i2: await tinyPng([], 8, 8, 2) } });
    full = true;
    await expect(store.save({ document: doc(3, 'i2', null), blobs: {} })).rejects.toMatchObject({ code: 'disk-full' });
    full = false;
    const loaded = await new DocumentStore(dir).load();
    expect(loaded!.document.settings['n']).toBe(2); // the failed save left the good one (as the previous)
    const names = await readdir(dir);
    expect(names.filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('writeFileAtomic leaves the old content on failure and no temp file', async () => {
    const file = path.join(tmp, 'f.txt');
    await writeFileAtomic(file, 'old');
    const fs: AtomicFs = { ...realFs, rename: async () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })) };
    await expect(writeFileAtomic(file, 'new', { fs })).rejects.toThrow('EIO');
    expect(await readFile(file, 'utf8')).toBe('old');
    expect(await readdir(tmp)).toEqual(['f.txt']);
  });
});
