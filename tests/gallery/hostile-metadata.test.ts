// Hostile PNG metadata (issue 13): parsers finish in linear time on ~1 MB inputs, inflated text is capped, and a
// gallery folder holding a bomb still opens, listing the file without parameters and saying why.
import { spawn } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import extractChunks from 'png-chunks-extract';
import encodeChunks from 'png-chunks-encode';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Gallery, PngError, parametersFromText, pngTextChunks, readImageParameters } from '../../src-main/gallery/index.js';
import { readImageMetadata } from '../../src-main/engine/image/metadata.js';
import { MAX_TEXT_CHUNKS, MAX_TEXT_TOTAL_BYTES, MAX_TEXT_VALUE_BYTES } from '../../src-main/engine/image/text-limits.js';
import { tinyPng } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

/** A tiny PNG with raw text chunks inserted after IHDR (valid CRCs). */
async function pngWith(chunks: Array<{ name: string; data: Uint8Array }>): Promise<Uint8Array> {
  const all = extractChunks(await tinyPng());
  all.splice(1, 0, ...chunks);
  return encodeChunks(all);
}
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
/** zTXt: keyword \0 method 0, deflated text. */
const ztxt = (keyword: string, inflated: Buffer): { name: string; data: Uint8Array } => ({ name: 'zTXt', data: Buffer.concat([latin1(keyword), Buffer.from([0, 0]), deflateSync(inflated, { level: 9 })]) });
/** Compressed iTXt: keyword \0 flag 1 method 0 lang \0 translated \0, deflated UTF-8. */
const itxt = (keyword: string, inflated: Buffer): { name: string; data: Uint8Array } => ({ name: 'iTXt', data: Buffer.concat([latin1(keyword), Buffer.from([0, 1, 0, 0, 0]), deflateSync(inflated, { level: 9 })]) });

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-hostile-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('hostile PNG metadata', () => {
  it('parsers finish on ~1 MB attack inputs (infotext key run, self-linked ComfyUI graphs, InvokeAI brackets) with the right result', async () => {
    // The child finishes in well under a second; the limit only stops the old code (minutes to forever) from hanging the suite.
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'hostile-metadata-child.ts')], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => proc.on('exit', (c, s) => resolve([c, s])));
    expect({ code, signal, err: err.slice(-2000) }).toEqual({ code: 0, signal: null, err: expect.any(String) });
    const r = JSON.parse(out) as Record<string, Record<string, unknown>>;
    expect(r['keyRun']).toEqual({ prompt: 'a prompt', params: { Steps: '20', Sampler: 'Euler a', Seed: '5' } });
    expect(r['plainLine']).toEqual({ promptLength: 'first line\n'.length + 1_000_000, params: {} });
    expect(r['comfy']).toEqual({ prompt: 'found it', negativePrompt: 'found it', steps: 4 });
    expect(r['comfyWorkflow']).toEqual({ prompt: 'found it too', steps: 4 });
    expect(r['legacy']).toEqual({ promptIsInput: true, negativePrompt: '' });
  }, 150_000);

  it('a zTXt / iTXt bomb (a few KB inflating past the cap) is refused without inflating it all', async () => {
    const bomb = Buffer.alloc(MAX_TEXT_VALUE_BYTES * 8, 0x61); // 16 MiB of 'a', ~16 KB deflated
    for (const chunk of [ztxt('parameters', bomb), itxt('workflow', bomb)]) {
      const png = await pngWith([chunk]);
      expect(png.length).toBeLessThan(64 * 1024);
      expect(() => pngTextChunks(png)).toThrow(PngError);
      expect(() => pngTextChunks(png)).toThrow(/too large/);
      expect(() => readImageParameters(png)).toThrow(/too large/);
      expect(() => readImageMetadata(png)).toThrow(expect.objectContaining({ code: 'bad-metadata' }));
    }
  });

  it('many chunks each under the per-chunk cap are refused past the per-file total', async () => {
    const part = Buffer.alloc(MAX_TEXT_VALUE_BYTES - 1024, 0x62);
    const count = Math.ceil(MAX_TEXT_TOTAL_BYTES / part.length) + 1;
    const png = await pngWith(Array.from({ length: count }, (_, i) => ztxt(`k${i}`, part)));
    expect(() => pngTextChunks(png)).toThrow(/too large/);
    expect(() => readImageMetadata(png)).toThrow(/too large/);
    // Hundreds of thousands of tiny text chunks: refused at the chunk cap instead of building a huge keyword map.
    const tiny = await pngWith(Array.from({ length: MAX_TEXT_CHUNKS + 1 }, (_, i) => ({ name: 'tEXt', data: latin1(`k${i}\0v`) })));
    expect(() => pngTextChunks(tiny)).toThrow(/too large/);
    // Under the caps, the same chunks read fine.
    const fine = await pngWith([ztxt('a', part), itxt('b', Buffer.from('城', 'utf8'))]);
    expect(pngTextChunks(fine)).toEqual({ a: part.toString('latin1'), b: '城' });
    expect(readImageMetadata(fine).text['a']).toHaveLength(part.length);
  });

  it('JSON nested deeper than any tool writes is not read as metadata', () => {
    const deep = `${'{"a":'.repeat(100)}1${'}'.repeat(100)}`;
    expect(parametersFromText({ invokeai_metadata: deep }).source).toBe('unknown');
    const shallow = JSON.stringify({ positive_prompt: 'a [b]', steps: 3, nested: { x: [[['{[']]] } });
    expect(parametersFromText({ invokeai_metadata: shallow })).toMatchObject({ source: 'invokeai', prompt: 'a [b]', steps: 3 });
  });

  it('a bomb in the output folder, named as the gallery names its images: the gallery opens, skips it and logs why', async () => {
    const dir = path.join(tmp, 'out');
    const day = path.join(dir, '2026-01-02');
    await mkdir(day, { recursive: true });
    const bomb = path.join(day, '20260102-030405-006.png');
    await writeFile(bomb, await pngWith([ztxt('parameters', Buffer.alloc(64 * 1024 * 1024, 0x61))]));
    const logs: string[] = [];
    const { gallery } = await Gallery.open(dir, { thumbnails: false, log: (_level, message) => logs.push(message) });
    // Its parameters cannot be read, so nothing proves the gallery wrote it: it is not adopted.
    expect(await gallery.reconcile()).toEqual({ added: 0, removed: 0 });
    expect(gallery.list({}).items).toEqual([]);
    expect(logs.some((l) => l.includes('20260102-030405-006.png') && /too large/.test(l))).toBe(true);
    await gallery.close();
  });
});
