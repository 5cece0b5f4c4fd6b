// An autosave whose settings nest thousands of levels deep (a hostile or buggy renderer): it used to be saved and
// then could never be loaded (structured clone over Electron IPC overflows the stack). Now save() refuses it
// with the same schema load() applies, and a file with such settings (made here) is skipped for the previous save.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AutosaveError, DocumentStore } from '../../src-main/autosave/index.js';
import { galleryRequestSchemas, MAX_SETTINGS_DEPTH, withinJsonLimits, type AutosaveDocument } from '../../src-main/shared/gallery.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-autosave-deep-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** {a: {a: … 1}} with `levels` objects. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

function doc(settings: Record<string, unknown>): AutosaveDocument {
  return { version: 1, width: 64, height: 48, image: null, mask: null, results: [], resultIndex: 0, settings };
}

describe('autosave settings depth', () => {
  it('save refuses 3,000-deep settings (invalid-payload) and the last good save stays loadable', async () => {
    const store = new DocumentStore(tmp);
    await store.save({ document: doc({ prompt: 'a fox', loras: [{ name: 'x', weight: 0.5 }] }), blobs: {} });
    const err = await store.save({ document: doc({ deep: nested(3000) }), blobs: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AutosaveError);
    expect(err).toMatchObject({ code: 'invalid-payload' });
    expect((err as Error).message).toMatch(new RegExp(`deeper than ${MAX_SETTINGS_DEPTH} levels`));
    const loaded = await new DocumentStore(tmp).load();
    expect(loaded!.document.settings['prompt']).toBe('a fox');
    // What load() returns goes through structured clone (Electron IPC): it must survive it.
    expect(structuredClone(loaded!.document)).toEqual(loaded!.document);
  });

  it('the IPC/wire request schema refuses it too', () => {
    expect(galleryRequestSchemas.autosaveSave.safeParse({ document: doc({ deep: nested(3000) }), blobs: {} }).success).toBe(false);
    expect(galleryRequestSchemas.autosaveSave.safeParse({ document: doc({ ok: nested(MAX_SETTINGS_DEPTH - 1) }), blobs: {} }).success).toBe(true);
  });

  it('a saved file with deep settings (written by an older version) is skipped for the previous save', async () => {
    const warnings: string[] = [];
    const store = new DocumentStore(tmp, { log: (_level, message) => warnings.push(message) });
    await store.save({ document: doc({ n: 1 }), blobs: {} });
    await store.save({ document: doc({ n: 2 }), blobs: {} });
    const current = JSON.parse(await readFile(store.currentFile, 'utf8'));
    current.document.settings = { deep: nested(3000) };
    await writeFile(store.currentFile, JSON.stringify(current));
    const loaded = await new DocumentStore(tmp, { log: (_level, message) => warnings.push(message) }).load();
    expect(loaded).toMatchObject({ fromBackup: true, document: { settings: { n: 1 } } });
    expect(warnings.some((w) => /invalid document/.test(w))).toBe(true);
  });

  it('the check is iterative and bounded: very deep, cyclic and exploding shared values are refused without a stack overflow', () => {
    expect(withinJsonLimits(nested(100_000))).toBe(false);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(withinJsonLimits(cyclic)).toBe(false);
    // 30 levels, each two references to the next: 2^30 paths through a tiny object graph.
    let shared: unknown = 1;
    for (let i = 0; i < 30; i++) shared = { l: shared, r: shared };
    expect(withinJsonLimits(shared)).toBe(false);
    expect(withinJsonLimits({ a: [1, { b: 'c' }], d: null })).toBe(true);
  });
});
