// The gallery: saving, listing, search and filters, star, trash/restore/purge, thumbnails, the journal's torn
// tail and damaged records, reconcile and rebuild from the PNGs, and a full disk (injected ENOSPC).
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile, copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { realFs, type AtomicFs } from '../../src-main/durable/index.js';
import { Gallery, GalleryError, isCompletePng, parseJournal, encodeRecord } from '../../src-main/gallery/index.js';
import { sharpWebpThumbnailer } from '../../src-main/gallery/sharp-thumbnailer.js';
import { encodePng } from '../../src-main/engine/image/png.js';
import { ourPng, tinyPng, a1111Text } from './helpers.js';

/** Incompressible pixels (fills a disk fast). */
function noisyPng(prompt: string, size: number): Promise<Uint8Array> {
  const px = new Uint8Array(size * size * 3);
  for (let i = 0; i < px.length; i++) px[i] = (Math.random() * 256) | 0;
  return encodePng(px, size, size, 3, [{ keyword: 'parameters', text: a1111Text(prompt, 1) }]);
}

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-gallery-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function open(dir = path.join(tmp, 'out'), options = {}) {
  return (await Gallery.open(dir, { thumbnails: false, ...options })).gallery;
}

describe('gallery', () => {
  it('saves PNGs byte for byte into day folders and lists them newest first with counts', async () => {
    const g = await open();
    const t = Date.UTC(2026, 0, 2, 12);
    const a = await g.add(await ourPng('a red fox', 1), { createdAt: t });
    const b = await g.add(await ourPng('a blue whale', 2, 'sd15'), { createdAt: t + 1000 });
    const c = await g.add(await tinyPng([{ keyword: 'parameters', text: a1111Text('a green frog', 3) }]), { createdAt: t + 2000 });
    expect(a.id).toMatch(/^\d{4}-\d\d-\d\d\/\d{8}-\d{6}-\d{3}-1$/);
    expect(await readFile(a.file)).toEqual(Buffer.from(await ourPng('a red fox', 1)));
    const page = g.list();
    expect(page.items.map((i) => i.prompt)).toEqual(['a green frog', 'a blue whale', 'a red fox']);
    expect(page.total).toBe(3);
    expect(page.counts).toMatchObject({ all: 3, starred: 0, trash: 0 });
    expect(page.counts.models).toEqual([
      { name: 'sd15', count: 2 },
      { name: 'tiny-sd15', count: 1 },
    ]);
    expect(b).toMatchObject({ source: 'latent-studio', seed: '2', steps: 3, cfgScale: 7.5, sampler: 'euler', width: 8, height: 8, starred: false, trashed: false });
    expect(c.source).toBe('a1111');
    // No temp files left behind.
    const day = await readdir(path.dirname(a.file));
    expect(day.every((n) => n.endsWith('.png') && !n.startsWith('.'))).toBe(true);
    await g.close();
    // Reopen: same list from the journal.
    const g2 = await open();
    expect(g2.list().items.map((i) => i.id)).toEqual(page.items.map((i) => i.id));
    await g2.close();
  });

  it('search in prompts (all words, case-insensitive), filters by model, date, starred; pages', async () => {
    const g = await open();
    const t = Date.UTC(2026, 0, 1);
    const prompts = ['A Dragon over a castle', 'castle in the fog', 'portrait of a dragon', 'sunset over the ocean', 'dragon castle night'];
    for (const [i, p] of prompts.entries()) await g.add(await ourPng(p, i, i % 2 ? 'modelB' : 'modelA'), { createdAt: t + i * 86_400_000 });
    expect(g.list({ text: 'dragon' }).total).toBe(3);
    expect(g.list({ text: 'DRAGON castle' }).items.map((i) => i.prompt)).toEqual(['dragon castle night', 'A Dragon over a castle']);
    expect(g.list({ text: 'ugly' }).total).toBe(5); // negative prompt is searched too
    expect(g.list({ model: 'modelB' }).items.map((i) => i.prompt)).toEqual(['sunset over the ocean', 'castle in the fog']);
    expect(g.list({ from: t + 86_400_000, to: t + 3 * 86_400_000 }).total).toBe(2);
    const page2 = g.list({ offset: 2, limit: 2 });
    expect(page2.items.map((i) => i.prompt)).toEqual(['portrait of a dragon', 'castle in the fog']);
    expect(page2.total).toBe(5);
    const ids = g.list({ text: 'sunset' }).items.map((i) => i.id);
    const starred = await g.star(ids, true);
    expect(starred[0]!.starred).toBe(true);
    expect(g.list({ starredOnly: true }).items.map((i) => i.prompt)).toEqual(['sunset over the ocean']);
    expect(g.list().counts.starred).toBe(1);
    await g.close();
    expect((await open()).list({ starredOnly: true }).total).toBe(1);
  });

  it('trash moves the file (undo restores it), purge deletes it for good; all survive a reopen', async () => {
    const g = await open();
    const a = await g.add(await ourPng('keep', 1));
    const b = await g.add(await ourPng('bin me', 2));
    expect(await g.trash([b.id])).toEqual([b.id]);
    const trashed = g.get(b.id)!;
    expect(trashed.trashed).toBe(true);
    expect(trashed.file).toContain(`${path.sep}.trash${path.sep}`);
    await expect(stat(b.file)).rejects.toThrow();
    expect(isCompletePng(await readFile(trashed.file))).toBe(true);
    expect(g.list().items.map((i) => i.id)).toEqual([a.id]);
    expect(g.list({ trash: true }).items.map((i) => i.id)).toEqual([b.id]);
    expect(g.list().counts).toMatchObject({ all: 1, trash: 1 });
    // undo
    expect(await g.restore([b.id])).toEqual([b.id]);
    expect((await stat(b.file)).isFile()).toBe(true);
    expect(g.list().total).toBe(2);
    // trash again, reopen, purge
    await g.trash([b.id]);
    await g.close();
    const g2 = await open();
    expect(g2.list({ trash: true }).total).toBe(1);
    expect(await g2.purge([a.id])).toEqual([]); // only trashed images can be purged
    expect(await g2.purge()).toEqual([b.id]);
    await expect(stat(trashed.file)).rejects.toThrow();
    expect(g2.list({ trash: true }).total).toBe(0);
    expect(g2.size).toBe(1);
    await g2.close();
    expect((await open()).size).toBe(1);
  });

  it('thumbnails: 256 px PNG (pure JS, default) made after add, made again when missing; WebP with sharp', async () => {
    const g = await open(undefined, { thumbnails: true });
    const item = await g.add(await ourPng('big', 5, 'm', 600, 300));
    await g.thumbnailsIdle();
    const file = g.thumbnailFile(item.id);
    expect(file).toContain(`${path.sep}.thumbnails${path.sep}`);
    expect(file.endsWith('.png')).toBe(true);
    const meta = await sharp(await readFile(file)).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 256, height: 128 });
    await unlink(file);
    const again = await g.thumbnail(item.id);
    expect(again).not.toBeNull();
    expect((await sharp(again!).metadata()).width).toBe(256);
    expect(await g.thumbnail('no/such')).toBeNull();
    await g.close();
    const w = await open(undefined, { thumbnails: true, thumbnailer: sharpWebpThumbnailer });
    const webp = await w.thumbnail(item.id);
    expect(await sharp(webp!).metadata()).toMatchObject({ format: 'webp', width: 256, height: 128 });
    expect(w.thumbnailFile(item.id).endsWith('.webp')).toBe(true);
    await w.close();
  });

  it('a torn journal tail (a crash mid-append) is cut off, not fatal; appends continue after it', async () => {
    const dir = path.join(tmp, 'out');
    const g = await open(dir);
    await g.add(await ourPng('one', 1));
    await g.add(await ourPng('two', 2));
    const journal = g.journal.file;
    await g.close();
    const good = (await stat(journal)).size;
    await appendFile(journal, encodeRecord({ op: 'put', e: { id: 'x' } }).subarray(0, 25)); // half a line
    const { gallery, report } = await Gallery.open(dir, { thumbnails: false });
    expect(report).toMatchObject({ entries: 2, corruptLines: 0 });
    expect(report.tornBytes).toBe(25);
    expect((await stat(journal)).size).toBe(good);
    await gallery.add(await ourPng('three', 3));
    await gallery.close();
    expect((await open(dir)).list().items.map((i) => i.prompt)).toEqual(['three', 'two', 'one']);
  });

  it('a damaged record in the middle is skipped and reconcile restores the image from its PNG', async () => {
    const dir = path.join(tmp, 'out');
    const g = await open(dir);
    for (let i = 0; i < 3; i++) await g.add(await ourPng(`img ${i}`, i), { createdAt: 1_700_000_000_000 + i });
    await g.close();
    const buf = await readFile(g.journal.file);
    const lines = buf.toString('utf8').split('\n');
    lines[1] = lines[1]!.replace('img 1', 'img X'); // checksum no longer matches
    await writeFile(g.journal.file, lines.join('\n'));
    expect(parseJournal(await readFile(g.journal.file)).corruptLines).toBe(1);
    const { gallery, report } = await Gallery.open(dir, { thumbnails: false });
    expect(report).toMatchObject({ entries: 2, corruptLines: 1, needsReconcile: true });
    expect(await gallery.reconcile()).toEqual({ added: 1, removed: 0 });
    expect(gallery.list().items.map((i) => i.prompt)).toEqual(['img 2', 'img 1', 'img 0']); // order kept: the time is in the file name
    await gallery.close();
  });

  it('reconcile: our PNGs copied in are added, deleted files dropped, trash state follows the file, our stale temp files removed', async () => {
    const dir = path.join(tmp, 'out');
    const g = await open(dir);
    const a = await g.add(await ourPng('a', 1));
    const b = await g.add(await ourPng('b', 2));
    const c = await g.add(await ourPng('c', 3));
    await g.close();
    // Copied in from another Latent Studio folder: our name and our chunk.
    await mkdir(path.join(dir, '2025-03-04'), { recursive: true });
    await writeFile(path.join(dir, '2025-03-04', '20250304-101112-131-9.png'), await ourPng('copied in', 9));
    await writeFile(path.join(dir, '2025-03-04', '20250304-101112-132.png'), (await ourPng('cut', 4)).subarray(0, 30)); // not a whole PNG: not listed
    await unlink(a.file);
    await mkdir(path.dirname(path.join(dir, '.trash', b.id)), { recursive: true });
    await copyFile(b.file, path.join(dir, '.trash', `${b.id}.png`));
    await unlink(b.file); // moved to the trash by a run that died before journaling it
    const stale = path.join(path.dirname(c.file), `.${path.basename(c.file)}.tmp-999999-1`);
    await writeFile(stale, 'partial');
    const g2 = await open(dir);
    expect(await g2.reconcile()).toEqual({ added: 1, removed: 1 });
    expect(g2.get(a.id)).toBeUndefined();
    expect(g2.get(b.id)!.trashed).toBe(true);
    expect(g2.get('2025-03-04/20250304-101112-131-9')).toMatchObject({ prompt: 'copied in', source: 'latent-studio', createdAt: new Date(2025, 2, 4, 10, 11, 12, 131).getTime() });
    expect(g2.get('2025-03-04/20250304-101112-132')).toBeUndefined();
    await expect(stat(stale)).rejects.toThrow();
    await g2.close();
  });

  it('rebuild from the PNGs when the index is gone; stars kept for a rebuild of a live index', async () => {
    const dir = path.join(tmp, 'out');
    const g = await open(dir);
    const items = [];
    for (let i = 0; i < 5; i++) items.push(await g.add(await ourPng(`p${i}`, i)));
    await g.star([items[2]!.id], true);
    const r = await g.rebuild();
    expect(r).toMatchObject({ count: 5, added: 0, removed: 0 });
    expect(g.get(items[2]!.id)!.starred).toBe(true);
    await g.close();
    await rm(path.join(dir, '.latent-studio'), { recursive: true });
    const { gallery, report } = await Gallery.open(dir, { thumbnails: false });
    expect(report.needsReconcile).toBe(true);
    expect(await gallery.reconcile()).toEqual({ added: 5, removed: 0 });
    expect(gallery.list().items.map((i) => i.prompt).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    await gallery.close();
  });

  it('compaction keeps the journal small and equivalent', async () => {
    const dir = path.join(tmp, 'out');
    const g = await open(dir);
    const a = await g.add(await ourPng('x', 1));
    for (let i = 0; i < 40; i++) await g.star([a.id], i % 2 === 0);
    const before = g.journal.bytes;
    await g.compact();
    expect(g.journal.bytes).toBeLessThan(before / 5);
    await g.close();
    const g2 = await open(dir);
    expect(g2.get(a.id)!.starred).toBe(false);
    expect(g2.size).toBe(1);
  });

  it('a full disk (injected ENOSPC): clear error, no partial file, earlier images and the index intact', async () => {
    let full = false;
    const fs: AtomicFs = {
      ...realFs,
      open: (async (file: string, flags?: string, mode?: number) => {
        const h = await realFs.open(file, flags, mode);
        if (!full) return h;
        const write = h.write.bind(h) as (...a: unknown[]) => Promise<{ bytesWritten: number }>;
        (h as unknown as { write: unknown }).write = async (buf: Uint8Array, off: number, len: number) => {
          await write(buf, off, Math.min(len, 7)); // a few bytes make it, then the disk is full
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        };
        return h;
      }) as AtomicFs['open'],
    };
    const dir = path.join(tmp, 'out');
    const g = await open(dir, { fs });
    const a = await g.add(await ourPng('before', 1));
    full = true;
    const failed = await g.add(await ourPng('lost', 2)).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(GalleryError);
    expect((failed as GalleryError).code).toBe('disk-full');
    expect((failed as GalleryError).message).toMatch(/disk is full/);
    full = false;
    const files = (await readdir(path.dirname(a.file))).sort();
    expect(files).toEqual([path.basename(a.file)]); // no temp file, no partial PNG
    const b = await g.add(await ourPng('after', 3));
    await g.close();
    const g2 = await open(dir);
    expect(g2.list().items.map((i) => i.id)).toEqual([b.id, a.id]);
    expect(await g2.reconcile()).toEqual({ added: 0, removed: 0 });
  });

  it('a full disk while journaling: the record is rolled back, the PNG is kept and picked up by reconcile', async () => {
    const dir = path.join(tmp, 'out');
    let failJournal = false;
    const fs: AtomicFs = {
      ...realFs,
      open: (async (file: string, flags?: string, mode?: number) => {
        const h = await realFs.open(file, flags, mode);
        if (!String(file).endsWith('index.journal')) return h;
        const write = h.write.bind(h) as (...a: unknown[]) => Promise<{ bytesWritten: number }>;
        (h as unknown as { write: unknown }).write = async (buf: Uint8Array, off: number, len: number) => {
          if (!failJournal) return write(buf, off, len);
          await write(buf, off, Math.min(len, 11));
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        };
        return h;
      }) as AtomicFs['open'],
    };
    const g = await open(dir, { fs });
    await g.add(await ourPng('one', 1));
    const size = g.journal.bytes;
    failJournal = true;
    const two = await g.add(await ourPng('two', 2)); // the PNG is safe; the index record is not
    failJournal = false;
    expect((await stat(g.journal.file)).size).toBe(size); // half line rolled back
    await g.add(await ourPng('three', 3));
    await g.close();
    const g2 = await open(dir);
    expect(g2.get(two.id)).toBeUndefined();
    expect(await g2.reconcile()).toEqual({ added: 1, removed: 0 });
    expect(g2.list().items.map((i) => i.prompt).sort()).toEqual(['one', 'three', 'two']);
  });
});

describe('gallery on a real full disk (tmpfs, root only)', () => {
  it('fills a 1 MiB tmpfs: every save before the failure is listed and decodes; the failure is a clear error', async (ctx) => {
    const mnt = path.join(tmp, 'tiny');
    await mkdir(mnt);
    const { execFileSync } = await import('node:child_process');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      ctx.skip();
      return;
    }
    try {
      const g = await open(mnt);
      const saved: string[] = [];
      let error: unknown;
      for (let i = 0; i < 200 && !error; i++) {
        try {
          saved.push((await g.add(await noisyPng(`fill ${i}`, 96))).id);
        } catch (e) {
          error = e;
        }
      }
      expect(error).toBeInstanceOf(GalleryError);
      expect((error as GalleryError).code).toBe('disk-full');
      await g.close();
      const { gallery, report } = await Gallery.open(mnt, { thumbnails: false });
      expect(report.tornBytes + report.corruptLines).toBe(0);
      await gallery.reconcile();
      const listed = gallery.all().map((i) => i.id);
      for (const id of saved) expect(listed).toContain(id);
      for (const item of gallery.all()) expect(isCompletePng(await readFile(item.file))).toBe(true);
      await gallery.close();
    } finally {
      try {
        execFileSync('umount', [mnt], { stdio: 'ignore' });
      } catch {
        execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
      }
    }
  });
});
