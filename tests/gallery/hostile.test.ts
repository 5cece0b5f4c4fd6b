// Hostile folders and journals: the gallery pointed at a folder full of someone's files, a journal whose ids
// lead out of the folder, links planted where the gallery keeps its files, and a lock left by a dead process.
// The gallery may only index, serve, move or delete files it wrote. Every attack file is made here.
import { spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeRecord, Gallery } from '../../src-main/gallery/index.js';
import { a1111Text, ourPng, tinyPng } from './helpers.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-hostile-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Writes files (path → bytes) under root; returns a snapshot function to compare later. */
async function plant(root: string, files: Record<string, Uint8Array | string>): Promise<() => Promise<Record<string, string>>> {
  for (const [rel, data] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), data);
  }
  return async () => {
    const now: Record<string, string> = {};
    for (const rel of Object.keys(files)) now[rel] = await readFile(path.join(root, rel), 'base64').catch(() => 'MISSING');
    return now;
  };
}

async function journal(dir: string, records: unknown[]): Promise<void> {
  await mkdir(path.join(dir, '.latent-studio'), { recursive: true });
  await writeFile(path.join(dir, '.latent-studio', 'index.journal'), Buffer.concat(records.map((r) => encodeRecord(r))));
}

const entry = (id: string) => ({ id, createdAt: 1_700_000_000_000, width: 8, height: 8, bytes: 100, source: 'a1111', prompt: 'p', negativePrompt: '' });

describe('a folder that is not only the gallery’s', () => {
  it('an existing Pictures folder: other files are never indexed, trashed, purged, nor their temp-like files deleted', async () => {
    const pictures = path.join(tmp, 'Pictures');
    const snapshot = await plant(pictures, {
      '2024/vacation.png': await tinyPng([{ keyword: 'parameters', text: a1111Text('a beach', 1) }]),
      'vacation.png': await tinyPng([], 8, 8, 2),
      // our file name, but neither our chunk nor a day folder we made: someone else's
      '2024-05-01/20240501-120000-000.png': await tinyPng([{ keyword: 'parameters', text: a1111Text('not ours', 3) }]),
      '.draft.txt.tmp-999999-1': 'a draft',
      '2024/.draft.txt.tmp-999999-1': 'another draft',
      '2024-05-01/.notes.png.tmp-999999-1': 'notes',
    });
    const before = await snapshot();
    const { gallery } = await Gallery.open(pictures, { thumbnails: false });
    expect(await gallery.reconcile()).toEqual({ added: 0, removed: 0 });
    const mine = await gallery.add(await ourPng('mine', 5));
    expect(gallery.all().map((i) => i.id)).toEqual([mine.id]);
    await gallery.trash(gallery.all().map((i) => i.id));
    expect(await gallery.purge()).toEqual([mine.id]);
    expect((await gallery.rebuild()).count).toBe(0);
    await gallery.close();
    expect(await snapshot()).toEqual(before);
    await expect(stat(mine.file)).rejects.toThrow();
  });

  it('a folder written by the previous version (our names and chunk, no markers) is still recognised', async () => {
    const dir = path.join(tmp, 'old');
    await plant(dir, {
      '2025-02-03/20250203-040506-007-11.png': await ourPng('old one', 11),
      '.trash/2025-02-03/20250203-040507-000-12.png': await ourPng('old trashed', 12),
    });
    const { gallery } = await Gallery.open(dir, { thumbnails: false });
    expect(await gallery.reconcile()).toEqual({ added: 2, removed: 0 });
    expect(gallery.get('2025-02-03/20250203-040506-007-11')).toMatchObject({ prompt: 'old one', trashed: false });
    expect(await gallery.purge()).toEqual(['2025-02-03/20250203-040507-000-12']);
    await gallery.close();
  });

  it('our own temp file left by a dead writer is deleted; one of a live writer is kept', async () => {
    const dir = path.join(tmp, 'out');
    const { gallery } = await Gallery.open(dir, { thumbnails: false });
    const item = await gallery.add(await ourPng('x', 1));
    const folder = path.dirname(item.file);
    const dead = path.join(folder, `.${path.basename(item.file)}.tmp-999999-1`);
    const live = path.join(folder, `.${path.basename(item.file)}.tmp-${process.pid}-999`);
    await writeFile(dead, 'partial');
    await writeFile(live, 'being written');
    await gallery.reconcile();
    await expect(stat(dead)).rejects.toThrow();
    expect(await readFile(live, 'utf8')).toBe('being written');
    await gallery.close();
  });
});

describe('an untrusted journal', () => {
  it('ids that lead out of the folder are dropped on replay: nothing outside is served or deleted', async () => {
    const dir = path.join(tmp, 'out');
    const victim = await plant(tmp, { 'victim/private.png': await tinyPng([], 8, 8, 3), 'victim/private.webp': 'thumb', 'etc/passwd.png': 'root' });
    const before = await victim();
    const bad = ['../victim/private', '2024-01-01/../../victim/private', `${path.join(tmp, 'etc', 'passwd')}`, '..\\victim\\private', '2024-01-01/20240101-000000-000/../../../victim/private'];
    await journal(dir, [
      ...bad.map((id) => ({ op: 'put', e: entry(id), trashed: true })),
      { op: 'put', e: { ...entry('2024-01-01/20240101-000000-001'), createdAt: 'soon', prompt: { toLowerCase: 1 } } },
      { op: 'star', id: '2024-01-01/20240101-000000-001', v: 'yes' },
    ]);
    const { gallery } = await Gallery.open(dir, { thumbnails: false });
    expect(gallery.all().map((i) => i.id)).toEqual(['2024-01-01/20240101-000000-001']);
    expect(gallery.all()[0]).toMatchObject({ prompt: '', starred: false });
    expect(gallery.list({ text: 'p' }).total).toBe(0); // a broken entry does not break search
    for (const id of bad) {
      await expect(gallery.readPng(id)).rejects.toMatchObject({ code: 'not-found' });
      expect(await gallery.thumbnail(id)).toBeNull();
      expect(() => gallery.fileOf(id)).toThrow();
    }
    expect(await gallery.purge(bad)).toEqual([]);
    expect(await gallery.purge()).toEqual([]);
    await gallery.close();
    expect(await victim()).toEqual(before);
  });

  it('links planted in the folder (day folder, .trash, .thumbnails, an image) are not followed out', async () => {
    const dir = path.join(tmp, 'out');
    const victim = path.join(tmp, 'victim');
    const id = '2024-01-01/20240101-000000-000';
    const linked = '2024-02-02/20240202-000000-000';
    const snapshot = await plant(victim, {
      '2024-01-01/20240101-000000-000.png': await ourPng('victim trashed', 1),
      '2024-01-01/20240101-000000-000.webp': 'victim thumb',
      'secret.png': await ourPng('secret', 2),
    });
    const before = await snapshot();
    await mkdir(path.join(dir, '2024-02-02'), { recursive: true });
    await symlink(victim, path.join(dir, '.trash'));
    await symlink(victim, path.join(dir, '.thumbnails'));
    await symlink(path.join(victim, 'secret.png'), path.join(dir, `${linked}.png`));
    await symlink(path.join(victim, '2024-01-01'), path.join(dir, '2024-03-03'));
    await journal(dir, [
      { op: 'put', e: entry(id), trashed: true },
      { op: 'put', e: entry(linked) },
    ]);
    const { gallery } = await Gallery.open(dir, { thumbnails: false });
    const found = await gallery.scan();
    expect([...found.keys()]).toEqual([]); // links are not our files
    await expect(gallery.readPng(linked)).rejects.toMatchObject({ code: 'not-found' });
    await expect(gallery.readPng(id)).rejects.toMatchObject({ code: 'not-found' });
    expect(await gallery.thumbnail(id)).toBeNull();
    expect(await gallery.trash([linked])).toEqual([]);
    expect(await gallery.restore([id])).toEqual([]);
    await gallery.purge();
    await gallery.reconcile();
    await gallery.close();
    expect(await snapshot()).toEqual(before);
    expect(await readdir(victim)).toEqual(['2024-01-01', 'secret.png']);
  });
});

describe('hostile PNGs and a vanishing index', () => {
  it('a seed with path characters stays inside the day folder name', async () => {
    const dir = path.join(tmp, 'out');
    const { gallery } = await Gallery.open(dir, { thumbnails: false });
    const item = await gallery.add(await ourPng('x', 1), { parameters: { source: 'a1111', prompt: 'x', negativePrompt: '', seed: '../../../../evil\\..' } });
    expect(item.id).toMatch(/^\d{4}-\d\d-\d\d\/\d{8}-\d{6}-\d{3}-\.+evil\.\.$/); // one name: no separators left
    expect(path.dirname(item.file)).toBe(path.join(dir, item.id.split('/')[0]!));
    await gallery.close();
  });

  it('a journal deleted under a running gallery is written again from what it knows', async () => {
    const dir = path.join(tmp, 'out');
    const { gallery } = await Gallery.open(dir, { thumbnails: false });
    const a = await gallery.add(await ourPng('a', 1));
    await rm(path.join(dir, '.latent-studio', 'index.journal'));
    await gallery.star([a.id], true);
    await gallery.close();
    const { gallery: again } = await Gallery.open(dir, { thumbnails: false });
    expect(again.all().map((i) => [i.id, i.starred])).toEqual([[a.id, true]]);
    await again.close();
  });
});

describe('the journal lock', () => {
  it('a lock left by a dead process is taken over', async () => {
    const dir = path.join(tmp, 'out');
    const exited = spawn(process.execPath, ['-e', '0']);
    const pid = exited.pid!;
    await new Promise((resolve) => exited.on('exit', resolve));
    await mkdir(path.join(dir, '.latent-studio'), { recursive: true });
    await symlink(JSON.stringify({ pid, host: os.hostname(), nonce: 'dead' }), path.join(dir, '.latent-studio', 'index.journal.lock'));
    const { gallery } = await Gallery.open(dir, { thumbnails: false });
    await gallery.add(await ourPng('after a crash', 1));
    await gallery.close();
    await expect(lstat(path.join(dir, '.latent-studio', 'index.journal.lock'))).rejects.toThrow();
  });
});
